import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** Node flags that let a child process run TypeScript through tsx, the way the emulators are started. */
export function tsxImportFlags(): string[] {
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}
