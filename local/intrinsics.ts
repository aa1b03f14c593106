/**
 * The CloudFormation intrinsic functions the local runtime evaluates, as one resolver: Ref, Fn::GetAtt,
 * Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64 and the AWS:: pseudo parameters, against what
 * `provision` created. Pure.
 */
import { ShardlineError } from '../lambdas/shared/errors';
import { objectProp } from './resources/properties';
import type { CfnValue } from './template';

/** One provisioned resource: what `Ref` and `Fn::GetAtt` return for it. */
export interface ResolvedResource {
  type: string;
  ref: string;
  attributes: Record<string, string>;
}

export type ResolvedResources = Record<string, ResolvedResource>;

export interface PseudoParameters {
  region: string;
  accountId: string;
  partition: string;
  stackName?: string;
  urlSuffix?: string;
}

/**
 * The pseudo parameters of the local account and region.
 *
 * @example
 * ```ts
 * pseudoParametersFor(running); // { region: 'us-east-1', accountId: '000000000000', partition: 'aws' }
 * ```
 */
export function pseudoParametersFor(
  account: { region: string; accountId: string },
  stackName?: string,
): PseudoParameters {
  return {
    region: account.region,
    accountId: account.accountId,
    partition: 'aws',
    ...(stackName === undefined ? {} : { stackName }),
  };
}

export class UnsupportedIntrinsicError extends ShardlineError {
  constructor(intrinsic: string, where: string) {
    super(
      `${intrinsic} at ${where} cannot be resolved locally (supported: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64 and the AWS:: pseudo parameters); compute the value in the CDK stack instead`,
    );
    this.name = 'UnsupportedIntrinsicError';
  }
}

export class UnresolvedReferenceError extends ShardlineError {
  constructor(reference: string, where: string, reason: string) {
    super(`${reference} at ${where} cannot be resolved: ${reason}`);
    this.name = 'UnresolvedReferenceError';
  }
}

/**
 * The logical id a `Ref` or `Fn::GetAtt` points at, if the value is one.
 *
 * @example
 * ```ts
 * referencedResource({ 'Fn::GetAtt': ['Dlq', 'Arn'] }); // 'Dlq'
 * ```
 */
export function referencedResource(value: CfnValue): string | undefined {
  const object = objectProp(value);
  if (!object) return undefined;
  if (typeof object.Ref === 'string' && !object.Ref.startsWith('AWS::')) return object.Ref;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** `Ref: AWS::NoValue`: the property or list element is left out. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/**
 * Resolves the intrinsic functions in a template value against provisioned resources: Ref, Fn::GetAtt,
 * Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64 and the AWS:: pseudo parameters. Pure.
 *
 * @example
 * ```ts
 * resolveValue({ 'Fn::Join': ['-', ['lake', { Ref: 'AWS::AccountId' }]] }, {}, pseudo); // 'lake-000000000000'
 * resolveValue({ Ref: 'DlqD1FAA4AD' }, resolved, pseudo); // 'http://127.0.0.1:4566/000000000000/shardline-dev-dlq'
 * ```
 */
export function resolveValue(
  value: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where = '$',
): CfnValue {
  const resolved = resolveAny(value, refs, pseudo, where);
  if (resolved === NO_VALUE)
    throw new UnresolvedReferenceError('AWS::NoValue', where, 'a value is required here');
  return resolved;
}

/**
 * Resolves a value that must end up a string (a name, an ARN, a URL).
 *
 * @example
 * ```ts
 * resolveString(bucket.name, {}, { region: 'us-east-1', accountId: '000000000000', partition: 'aws' });
 * ```
 */
export function resolveString(
  value: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where = '$',
): string {
  const resolved = resolveValue(value, refs, pseudo, where);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  throw new UnresolvedReferenceError(
    JSON.stringify(value),
    where,
    `it resolves to ${JSON.stringify(resolved)}, not a string`,
  );
}

/**
 * Resolves a function's environment variables to the strings a handler process receives.
 *
 * @example
 * ```ts
 * const env = resolveEnvironment(consumer.environment, resolved, pseudo);
 * env.DLQ_URL; // the fauxqs queue URL
 * ```
 */
export function resolveEnvironment(
  environment: Record<string, CfnValue>,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      resolveString(value, refs, pseudo, `environment.${name}`),
    ]),
  );
}

/**
 * The logical ids a value refers to through Ref, Fn::GetAtt and Fn::Sub (pseudo parameters excluded),
 * so resources can be provisioned after what they depend on.
 *
 * @example
 * ```ts
 * referencedLogicalIds({ 'Fn::GetAtt': ['Dlq', 'Arn'] }); // Set { 'Dlq' }
 * ```
 */
export function referencedLogicalIds(value: CfnValue | undefined): Set<string> {
  const ids = new Set<string>();
  const visit = (node: CfnValue | undefined) => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    const object = objectProp(node);
    if (!object) return;
    const keys = Object.keys(object);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof object.Ref === 'string') {
      if (!object.Ref.startsWith('AWS::')) ids.add(object.Ref);
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const sub = object['Fn::Sub'];
      const [text, variables] = Array.isArray(sub) ? sub : [sub, undefined];
      const local = new Set(Object.keys(objectProp(variables) ?? {}));
      for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = (match[1] ?? '').split('.')[0] ?? '';
        if (!name.startsWith('AWS::') && !local.has(name)) ids.add(name);
      }
      visit(variables);
      return;
    }
    const referenced = referencedResource(object);
    if (referenced !== undefined) ids.add(referenced);
    Object.values(object).forEach(visit);
  };
  visit(value);
  return ids;
}

type Resolved = CfnValue | typeof NO_VALUE;

function resolveAny(
  value: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): Resolved {
  if (Array.isArray(value)) {
    return value
      .map((item, index) => resolveAny(item, refs, pseudo, `${where}[${index}]`))
      .filter((item): item is CfnValue => item !== NO_VALUE);
  }
  const object = objectProp(value);
  if (!object) return value;
  const keys = Object.keys(object);
  const [key] = keys;
  if (keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
    return resolveIntrinsic(key, object[key] as CfnValue, refs, pseudo, where);
  }
  const result: Record<string, CfnValue> = {};
  for (const [name, item] of Object.entries(object)) {
    const resolved = resolveAny(item, refs, pseudo, `${where}.${name}`);
    if (resolved !== NO_VALUE) result[name] = resolved;
  }
  return result;
}

function resolveIntrinsic(
  name: string,
  argument: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): Resolved {
  const at = `${where}.${name}`;
  switch (name) {
    case 'Ref':
      if (typeof argument !== 'string') throw new UnsupportedIntrinsicError('Ref to a non-string', at);
      return resolveRef(argument, refs, pseudo, at);
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(argument)
        ? [argument[0], resolveAny(argument[1] ?? null, refs, pseudo, at)]
        : splitOnce(String(argument));
      if (typeof logicalId !== 'string' || typeof attribute !== 'string') {
        throw new UnsupportedIntrinsicError('Fn::GetAtt with a non-string argument', at);
      }
      return getAtt(logicalId, attribute, refs, at);
    }
    case 'Fn::Join': {
      const [delimiter, list] = expectArray(argument, 2, name, at);
      const items = resolveAny(list as CfnValue, refs, pseudo, at);
      if (typeof delimiter !== 'string' || !Array.isArray(items)) {
        throw new UnsupportedIntrinsicError('Fn::Join without [delimiter, list]', at);
      }
      return items.map((item) => scalar(item, at)).join(delimiter);
    }
    case 'Fn::Select': {
      const [index, list] = expectArray(argument, 2, name, at);
      const position = Number(resolveAny(index as CfnValue, refs, pseudo, at));
      const items = resolveAny(list as CfnValue, refs, pseudo, at);
      if (!Array.isArray(items) || !Number.isInteger(position) || position < 0 || position >= items.length) {
        throw new UnresolvedReferenceError(
          'Fn::Select',
          at,
          `index ${JSON.stringify(index)} is outside the list`,
        );
      }
      return items[position] as CfnValue;
    }
    case 'Fn::Split': {
      const [delimiter, source] = expectArray(argument, 2, name, at);
      const text = resolveAny(source as CfnValue, refs, pseudo, at);
      if (typeof delimiter !== 'string' || typeof text !== 'string') {
        throw new UnsupportedIntrinsicError('Fn::Split without [delimiter, string]', at);
      }
      return text.split(delimiter);
    }
    case 'Fn::Base64':
      return Buffer.from(scalar(resolveAny(argument, refs, pseudo, at), at)).toString('base64');
    case 'Fn::Sub':
      return substitute(argument, refs, pseudo, at);
    default:
      throw new UnsupportedIntrinsicError(name, where);
  }
}

function resolveRef(
  target: string,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): Resolved {
  switch (target) {
    case 'AWS::AccountId':
      return pseudo.accountId;
    case 'AWS::Region':
      return pseudo.region;
    case 'AWS::Partition':
      return pseudo.partition;
    case 'AWS::URLSuffix':
      return pseudo.urlSuffix ?? 'amazonaws.com';
    case 'AWS::NoValue':
      return NO_VALUE;
    case 'AWS::StackName':
      if (pseudo.stackName !== undefined) return pseudo.stackName;
      throw new UnresolvedReferenceError(target, where, 'no stack name was given to the resolver');
  }
  if (target.startsWith('AWS::')) throw new UnsupportedIntrinsicError(`Ref ${target}`, where);
  const resource = refs[target];
  if (!resource) throw missingResource(target, refs, where);
  return resource.ref;
}

function getAtt(logicalId: string, attribute: string, refs: ResolvedResources, where: string): string {
  const resource = refs[logicalId];
  if (!resource) throw missingResource(`${logicalId}.${attribute}`, refs, where, logicalId);
  const value = resource.attributes[attribute];
  if (value === undefined) {
    throw new UnresolvedReferenceError(
      `Fn::GetAtt ${logicalId}.${attribute}`,
      where,
      `the local ${resource.type} has no ${attribute} (available: ${Object.keys(resource.attributes).join(', ') || 'none'})`,
    );
  }
  return value;
}

function missingResource(reference: string, refs: ResolvedResources, where: string, logicalId = reference) {
  return new UnresolvedReferenceError(
    reference,
    where,
    `${logicalId} is not among the resources provisioned locally (Kinesis streams, DynamoDB tables, SQS queues, S3 buckets, Lambda functions: ${Object.keys(refs).join(', ') || 'none yet'})`,
  );
}

function substitute(
  argument: CfnValue,
  refs: ResolvedResources,
  pseudo: PseudoParameters,
  where: string,
): string {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, undefined];
  if (typeof text !== 'string') throw new UnsupportedIntrinsicError('Fn::Sub without a string', where);
  const locals = Object.fromEntries(
    Object.entries(objectProp(variables) ?? {}).map(([name, value]) => [
      name,
      scalar(resolveAny(value, refs, pseudo, `${where}.${name}`), where),
    ]),
  );
  return text.replace(/\$\{([^}]*)\}/g, (_match, expression: string) => {
    if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
    const local = locals[expression];
    if (local !== undefined) return local;
    if (expression.startsWith('AWS::')) return scalar(resolveRef(expression, refs, pseudo, where), where);
    const [logicalId, attribute] = splitOnce(expression);
    return attribute === undefined
      ? scalar(resolveRef(logicalId, refs, pseudo, where), where)
      : getAtt(logicalId, attribute, refs, where);
  });
}

function splitOnce(text: string): [string, string | undefined] {
  const dot = text.indexOf('.');
  return dot === -1 ? [text, undefined] : [text.slice(0, dot), text.slice(dot + 1)];
}

function expectArray(argument: CfnValue, length: number, name: string, where: string): CfnValue[] {
  if (!Array.isArray(argument) || argument.length !== length) {
    throw new UnsupportedIntrinsicError(`${name} with ${JSON.stringify(argument)}`, where);
  }
  return argument;
}

function scalar(value: Resolved, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnresolvedReferenceError(
    JSON.stringify(value === NO_VALUE ? 'AWS::NoValue' : value),
    where,
    'expected a string',
  );
}
