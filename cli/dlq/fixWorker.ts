/**
 * The child process that runs a `dlq redrive --fix` script (started by fixProcess.ts, never imported).
 * It reads `{ modulePath, items: [{ record, message }] }` as JSON on stdin and writes `{ results }` on
 * stdout, one `{ fixed }` or `{ error }` per item. It has no AWS credentials: fixProcess.ts scrubs them.
 */
import { pathToFileURL } from 'node:url';

interface FixRequest {
  modulePath: string;
  items: Array<{ record: unknown; message: unknown }>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const request = JSON.parse(await readStdin()) as FixRequest;
let fix: unknown;
try {
  const module = (await import(pathToFileURL(request.modulePath).href)) as Record<string, unknown>;
  fix = module.default ?? module.fix;
} catch (error) {
  process.stderr.write(`cannot load the fix script ${request.modulePath}: ${(error as Error).message}\n`);
  process.exit(2);
}
if (typeof fix !== 'function') {
  process.stderr.write(`${request.modulePath} must export a function (default export or \`fix\`)\n`);
  process.exit(2);
}
const results = [];
for (const { record, message } of request.items) {
  try {
    const fixed = await (fix as (record: unknown, message: unknown) => unknown)(record, message);
    results.push({ fixed: fixed ?? null });
  } catch (error) {
    results.push({ error: (error as Error).message ?? String(error) });
  }
}
process.stdout.write(JSON.stringify({ results }));
