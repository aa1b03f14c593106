import { parseEvent } from '../../lambdas/shared/events';
import type { InputRecord } from './inputRecord';

/**
 * Why a record is not a valid event, as the consumer would decide (JSON, an object, the schema), or null
 * when it is one. What `--strict` refuses.
 *
 * @example
 * ```ts
 * recordProblem({ line: 3, data: '{"event_type":' }); // 'not JSON: …'
 * ```
 */
export function recordProblem(record: InputRecord): string | null {
  let value: unknown = record.data;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      return `not JSON: ${(error as Error).message}`;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const parsed = parseEvent(value);
  if (parsed.success) return null;
  return parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
