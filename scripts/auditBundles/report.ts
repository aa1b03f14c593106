import { BLOCKING_SEVERITIES } from './advisories';
import type { AuditReport, BundleInventory, Finding, ShippedPackage } from './types';

/**
 * The shipped packages of each bundle, one `name@version` a line, for `--list`.
 *
 * @example
 * ```ts
 * console.log(formatPackageList(bundles));
 * // producer (lambdas/producer/handler.ts): 25 packages
 * //   @aws-lambda-powertools/commons@2.36.0
 * //   ...
 * ```
 */
export function formatPackageList(bundles: readonly BundleInventory[]): string {
  const lines: string[] = [];
  for (const bundle of bundles) {
    lines.push(`${bundle.name} (${bundle.entry}): ${count(bundle.packages.length, 'package')}`);
    for (const pkg of bundle.packages) lines.push(`  ${packageLine(pkg)}`);
  }
  return lines.join('\n');
}

/**
 * The audit's verdict for people: per bundle a table of the advisories that apply, then one line that
 * says whether anything high or critical ships.
 *
 * @example
 * ```ts
 * console.log(formatReport(report));
 * ```
 */
export function formatReport(report: AuditReport): string {
  const shipped = new Set(report.bundles.flatMap((b) => b.packages.map((p) => `${p.name}@${p.version}`)));
  const lines = [`Checked ${count(shipped.size, 'package version')} against ${report.advisoryEndpoint}`, ''];
  for (const bundle of report.bundles) {
    const packages = count(bundle.packages.length, 'package');
    if (bundle.findings.length === 0) {
      lines.push(`${bundle.name} (${packages}): no advisories`, '');
      continue;
    }
    lines.push(`${bundle.name} (${packages}): ${count(bundle.findings.length, 'advisory', 'advisories')}`);
    lines.push(...table(bundle.findings), '');
  }
  const blocking = report.blocking.length;
  lines.push(
    blocking === 0
      ? 'No high or critical advisory applies to what the Lambda bundles ship.'
      : `${count(blocking, 'high or critical advisory', 'high or critical advisories')} ` +
          `${blocking === 1 ? 'applies' : 'apply'} to what the Lambda bundles ship: upgrade or replace the packages above.`,
  );
  return lines.join('\n');
}

function table(findings: readonly Finding[]): string[] {
  const rows = [
    ['severity', 'package', 'vulnerable', 'advisory'],
    ...findings.map((f) => [
      BLOCKING_SEVERITIES.includes(f.severity) ? f.severity.toUpperCase() : f.severity,
      `${f.packageName}@${f.version}`,
      f.rangeUnreadable ? `${f.vulnerableVersions} (range unreadable, counted)` : f.vulnerableVersions,
      `${f.title} ${f.url}`,
    ]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) =>
    `  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd(),
  );
}

function packageLine(pkg: ShippedPackage): string {
  const copied =
    pkg.copiedFiles.length > 0 ? ` (+ ${pkg.copiedFiles.join(', ')} copied next to index.js)` : '';
  return `${pkg.name}@${pkg.version}${copied}`;
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
