import { satisfies, valid, validRange } from 'semver';

/**
 * Whether a version lies in an advisory's `vulnerable_versions` range, with the semantics npm audit uses:
 * node-semver's `satisfies` with `includePrerelease`. Returns undefined for a version or range semver
 * cannot read, so the caller can decide what an unreadable range means.
 *
 * @example
 * ```ts
 * inVersionRange('1.2.3', '<1.2.4'); // true
 * inVersionRange('2.0.4', '<1.2.4 || >=2.0.0 <2.0.4'); // false
 * inVersionRange('1.0.0', 'not a range'); // undefined
 * ```
 */
export function inVersionRange(version: string, range: string): boolean | undefined {
  if (valid(version) === null || validRange(range, { includePrerelease: true }) === null) return undefined;
  return satisfies(version, range, { includePrerelease: true });
}
