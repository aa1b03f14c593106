import { isBuiltin, register } from 'node:module';

/**
 * fauxqs 2.4 imports `node:sqlite` at load time, for a persistence we do not use, and Node 20 has no such
 * module. This registers a resolve hook that maps it to a stub which fails only if something actually
 * opens a database. Call it before importing fauxqs; a no-op where Node has the module.
 *
 * @example
 * ```ts
 * stubNodeSqliteForFauxqs();
 * const fauxqs = await import('fauxqs');
 * ```
 */
export function stubNodeSqliteForFauxqs(): void {
  if (isBuiltin('node:sqlite')) return;
  const stub = `export class DatabaseSync { constructor() { throw new Error('node:sqlite needs Node >= 22.5'); } }`;
  const hooks = `export async function resolve(specifier, context, nextResolve) {
    if (specifier === 'node:sqlite') {
      return { url: ${JSON.stringify(`data:text/javascript,${encodeURIComponent(stub)}`)}, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
