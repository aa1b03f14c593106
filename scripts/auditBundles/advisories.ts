import { z } from 'zod';
import type { AuditReport, BundleInventory, Finding } from './types';
import { inVersionRange } from './versionRange';

/** Severities of the npm advisory database, least severe first. */
export const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Severities that fail the audit. */
export const BLOCKING_SEVERITIES: readonly Severity[] = ['high', 'critical'];

/** One advisory as the bulk endpoint returns it; other fields (cwe, cvss) are not needed here. */
const advisorySchema = z.object({
  id: z.union([z.number(), z.string()]),
  title: z.string(),
  url: z.string(),
  severity: z.enum(SEVERITIES),
  vulnerable_versions: z.string(),
});
export type Advisory = z.infer<typeof advisorySchema>;

/** The bulk endpoint's answer: the advisories of each package name that was asked about. */
const advisoryResponseSchema = z.record(z.string(), z.array(advisorySchema));
export type AdvisoryResponse = z.infer<typeof advisoryResponseSchema>;

/**
 * Reads a bulk endpoint answer, or throws a ZodError when it does not have the expected shape.
 *
 * @example
 * ```ts
 * const response = parseAdvisoryResponse(await (await fetch(url, request)).json());
 * ```
 */
export function parseAdvisoryResponse(body: unknown): AdvisoryResponse {
  return advisoryResponseSchema.parse(body);
}

/**
 * The bulk endpoint's request body, `{ name: [versions] }`, for exactly the packages the bundles ship.
 *
 * @example
 * ```ts
 * bulkRequestBody(bundles); // { zod: ['4.6.7'], 'apache-arrow': ['21.2.0'], ... }
 * ```
 */
export function bulkRequestBody(bundles: readonly BundleInventory[]): Record<string, string[]> {
  const versions = new Map<string, Set<string>>();
  for (const { packages } of bundles) {
    for (const { name, version } of packages)
      versions.set(name, (versions.get(name) ?? new Set()).add(version));
  }
  return Object.fromEntries(
    [...versions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, set]) => [name, [...set].sort()]),
  );
}

/**
 * The advisories that apply to what each bundle ships. An advisory applies to a shipped version that
 * lies in its `vulnerable_versions` (as `npm audit` decides it); when that range cannot be read, it is
 * counted against every shipped version of the package and marked `rangeUnreadable`.
 *
 * @example
 * ```ts
 * const findings = findingsFor(bundles, parseAdvisoryResponse(body));
 * ```
 */
export function findingsFor(bundles: readonly BundleInventory[], response: AdvisoryResponse): Finding[] {
  const findings: Finding[] = [];
  for (const bundle of bundles) {
    for (const { name, version } of bundle.packages) {
      for (const advisory of response[name] ?? []) {
        const affected = inVersionRange(version, advisory.vulnerable_versions);
        if (affected === false) continue;
        findings.push({
          bundle: bundle.name,
          packageName: name,
          version,
          severity: advisory.severity,
          title: advisory.title,
          url: advisory.url,
          advisoryId: advisory.id,
          vulnerableVersions: advisory.vulnerable_versions,
          rangeUnreadable: affected === undefined,
        });
      }
    }
  }
  return findings.sort(
    (a, b) =>
      SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) ||
      (a.packageName < b.packageName ? -1 : 1),
  );
}

/**
 * The audit's result for an advisory answer: per bundle its packages and findings, and the findings of
 * blocking severity.
 *
 * @example
 * ```ts
 * const report = auditReport(endpoint, bundles, response);
 * process.exitCode = auditExitCode(report);
 * ```
 */
export function auditReport(
  advisoryEndpoint: string,
  bundles: readonly BundleInventory[],
  response: AdvisoryResponse,
): AuditReport {
  const findings = findingsFor(bundles, response);
  return {
    advisoryEndpoint,
    bundles: bundles.map((bundle) => ({
      ...bundle,
      findings: findings.filter((f) => f.bundle === bundle.name),
    })),
    blocking: findings.filter((finding) => BLOCKING_SEVERITIES.includes(finding.severity)),
  };
}

/**
 * 1 when a high or critical advisory applies to something a bundle ships, 0 otherwise.
 *
 * @example
 * ```ts
 * auditExitCode(report); // 0
 * ```
 */
export function auditExitCode(report: AuditReport): 0 | 1 {
  return report.blocking.length > 0 ? 1 : 0;
}
