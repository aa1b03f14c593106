#!/usr/bin/env node
// The `shardline` CLI. The CLI is TypeScript; tsx compiles it on the fly so there is no build step.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
// `shardline status --watch --json | head`: a closed pipe is the reader saying it has enough.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
