// `npm run audit:bundles`: the npm packages inside the Lambda bundles against the registry's advisories.
// Exit 0: nothing high or critical ships; 1: something does; 2: the audit could not complete.
import { fileURLToPath } from 'node:url';
import { defaultAuditDependencies, runAuditBundles } from './auditBundles';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
process.exitCode = await runAuditBundles(process.argv.slice(2), defaultAuditDependencies(projectRoot));
