#!/usr/bin/env node
// The `shardline` CLI. The CLI is TypeScript; tsx compiles it on the fly so there is no build step.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
