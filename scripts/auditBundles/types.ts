import type { Severity } from './advisories';

/** One npm package version that ships inside a Lambda bundle. */
export interface ShippedPackage {
  /** Package name from its package.json (what the advisory database knows it by). */
  readonly name: string;
  /** Version from its package.json. */
  readonly version: string;
  /** Where it is installed, relative to the project root (more than one when npm installed copies). */
  readonly directories: readonly string[];
  /** Files of the package copied next to the bundle as they are (for example a `.wasm` module). */
  readonly copiedFiles: readonly string[];
}

/** What one Lambda bundle ships. */
export interface BundleInventory {
  /** The bundle's name, after its function (`producer`, `consumer`). */
  readonly name: string;
  /** The handler source the bundle is built from, relative to the project root. */
  readonly entry: string;
  /** Sorted by name, then version. */
  readonly packages: readonly ShippedPackage[];
}

/** An advisory that applies to a package version shipped in a bundle. */
export interface Finding {
  readonly bundle: string;
  readonly packageName: string;
  readonly version: string;
  readonly severity: Severity;
  readonly title: string;
  readonly url: string;
  readonly advisoryId: number | string;
  readonly vulnerableVersions: string;
  /**
   * True when the audit could not read `vulnerableVersions` and counts the advisory against the
   * version rather than risk missing it.
   */
  readonly rangeUnreadable: boolean;
}

/** The audit's result: what each bundle ships and which advisories apply to it. */
export interface AuditReport {
  readonly advisoryEndpoint: string;
  readonly bundles: readonly {
    readonly name: string;
    readonly entry: string;
    readonly packages: readonly ShippedPackage[];
    readonly findings: readonly Finding[];
  }[];
  /** High and critical findings: any of them fails the audit. */
  readonly blocking: readonly Finding[];
}
