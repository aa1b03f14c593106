/**
 * Reading a resource property's literal value the way CloudFormation does (numbers and booleans may be
 * written as strings), for the settings the local runtime must know before anything is provisioned.
 */
import type { CfnValue } from '../template';
import { UnsupportedTemplateError } from './errors';

/**
 * The value as an object, if it is one (not a list, not null).
 *
 * @example
 * ```ts
 * objectProp(props.StreamModeDetails)?.StreamMode; // 'ON_DEMAND', or undefined
 * ```
 */
export function objectProp(value: CfnValue | undefined): Record<string, CfnValue> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

/**
 * A literal number, `fallback` when the property is absent; an intrinsic is refused.
 *
 * @example
 * ```ts
 * numberProp('Events', 'ShardCount', '2', 1); // 2
 * ```
 */
export function numberProp(
  logicalId: string,
  property: string,
  value: CfnValue | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  // CloudFormation accepts numbers written as strings.
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) {
    throw new UnsupportedTemplateError(
      logicalId,
      `${property} must be a literal number locally (got ${JSON.stringify(value)})`,
    );
  }
  return number;
}

/**
 * A literal integer, `fallback` when the property is absent.
 *
 * @example
 * ```ts
 * literalInteger('Consumer', 'Timeout', undefined, 3); // 3
 * ```
 */
export function literalInteger(
  logicalId: string,
  property: string,
  value: CfnValue | undefined,
  fallback: number,
): number {
  const number = numberProp(logicalId, property, value, fallback);
  if (!Number.isInteger(number)) {
    throw new UnsupportedTemplateError(
      logicalId,
      `${property} must be an integer (got ${JSON.stringify(value)})`,
    );
  }
  return number;
}

/**
 * A literal boolean (`'true'` and `'false'` included), `fallback` when the property is absent.
 *
 * @example
 * ```ts
 * literalBoolean('Mapping', 'Enabled', 'false', true); // false
 * ```
 */
export function literalBoolean(
  logicalId: string,
  property: string,
  value: CfnValue | undefined,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new UnsupportedTemplateError(
    logicalId,
    `${property} must be a literal boolean locally (got ${JSON.stringify(value)})`,
  );
}
