export {
  type Advisory,
  type AdvisoryResponse,
  auditExitCode,
  auditReport,
  BLOCKING_SEVERITIES,
  bulkRequestBody,
  findingsFor,
  parseAdvisoryResponse,
  SEVERITIES,
  type Severity,
} from './advisories';
export {
  ADVISORY_TIMEOUT_MS,
  type AdvisoryQuery,
  advisoryEndpointUrl,
  DEFAULT_REGISTRY,
  npmRegistry,
  queryAdvisories,
} from './advisoryEndpoint';
export { BUNDLE_BUILD_OPTIONS, LAMBDA_BUNDLES, type LambdaBundle } from './bundles';
export { AdvisoryEndpointError, AuditIncompleteError, BundleInventoryError } from './errors';
export { bundleInventories } from './inventory';
export { formatPackageList, formatReport } from './report';
export { type AuditDependencies, defaultAuditDependencies, runAuditBundles } from './run';
export { commandsImported, type SdkCalls, sdkCallsOf, UnreadableSdkImportError } from './sdkCalls';
export { filesInOutput, type PackageManifest, packageDirectoryOf, shippedPackages } from './shippedPackages';
export type { AuditReport, BundleInventory, Finding, ShippedPackage } from './types';
export { inVersionRange } from './versionRange';
