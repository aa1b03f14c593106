/**
 * Whether a version lies in an advisory's `vulnerable_versions` range, with the semantics npm audit uses
 * (node-semver `satisfies` with `includePrerelease`): `||` alternatives of space-separated comparators
 * (`<`, `<=`, `>`, `>=`, `=`), partial and `x` versions (`<2`, `1.2.x`), hyphen ranges and `*`. Returns undefined for
 * anything else (`^`, `~`, garbage), so the caller can decide what an unreadable range means.
 *
 * @example
 * ```ts
 * inVersionRange('1.2.3', '<1.2.4'); // true
 * inVersionRange('2.0.4', '<1.2.4 || >=2.0.0 <2.0.4'); // false
 * inVersionRange('1.0.0', '^1.0.0'); // undefined
 * ```
 */
export function inVersionRange(version: string, range: string): boolean | undefined {
  const target = parseVersion(version);
  if (!target) return undefined;
  let matched = false;
  for (const alternative of range.split('||')) {
    const comparators = parseAlternative(alternative);
    if (!comparators) return undefined;
    if (comparators.every(({ operator, bound }) => compareWith(operator, compareVersions(target, bound)))) {
      matched = true;
    }
  }
  return matched;
}

type Operator = '<' | '<=' | '>' | '>=' | '=';
interface Version {
  readonly release: readonly [number, number, number];
  readonly prerelease: readonly (number | string)[];
}
interface Comparator {
  readonly operator: Operator;
  readonly bound: Version;
}

const FULL_VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
const PARTIAL_VERSION = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$/;
const COMPARATOR = /^(<=|>=|<|>|=)?(.+)$/;

function parseVersion(text: string): Version | undefined {
  const match = FULL_VERSION.exec(text.trim().replace(/^=/, ''));
  if (!match) return undefined;
  const prerelease = match[4]?.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part)) ?? [];
  return { release: [Number(match[1]), Number(match[2]), Number(match[3])], prerelease };
}

/** The numeric parts a partial version names (`1.2` → [1, 2], `1.x` → [1], `*` → []). */
function parsePartial(text: string): number[] | undefined {
  const match = PARTIAL_VERSION.exec(text);
  if (!match) return undefined;
  const parts: number[] = [];
  for (const part of match.slice(1)) {
    if (part === undefined || !/^\d+$/.test(part)) break;
    parts.push(Number(part));
  }
  return parts;
}

/** The lowest version a partial one covers, prereleases included (`1.2` → 1.2.0-0). */
function floor(parts: readonly number[]): Version {
  return { release: [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0], prerelease: [0] };
}

/** The lowest version past a partial one (`1.2` → 1.3.0-0). */
function ceiling(parts: readonly number[]): Version {
  const next = [...parts];
  next[next.length - 1] = (next[next.length - 1] ?? 0) + 1;
  return floor(next);
}

function parseAlternative(text: string): Comparator[] | undefined {
  // node-semver accepts a space between an operator and its version ("< 1.2.3").
  const normalized = text.trim().replace(/(<=|>=|<|>|=)\s+/g, '$1');
  if (normalized === '') return [];
  const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(normalized);
  if (hyphen) return hyphenRange(hyphen[1] ?? '', hyphen[2] ?? '');
  const comparators: Comparator[] = [];
  for (const token of normalized.split(/\s+/)) {
    const parsed = parseComparator(token);
    if (!parsed) return undefined;
    comparators.push(...parsed);
  }
  return comparators;
}

function hyphenRange(from: string, to: string): Comparator[] | undefined {
  // With prereleases included, `1.2.3 - 2` starts at 1.2.3-0, not at 1.2.3.
  const fromVersion = parseVersion(from);
  const lower =
    fromVersion && fromVersion.prerelease.length === 0
      ? [{ operator: '>=' as const, bound: { ...fromVersion, prerelease: [0] } }]
      : parseComparator(`>=${from}`);
  const upper = parseComparator(`<=${to}`);
  return lower && upper ? [...lower, ...upper] : undefined;
}

function parseComparator(token: string): Comparator[] | undefined {
  const match = COMPARATOR.exec(token);
  if (!match) return undefined;
  const operator = (match[1] ?? '=') as Operator;
  const text = match[2] ?? '';
  const full = parseVersion(text);
  if (full) return [{ operator, bound: full }];
  const parts = parsePartial(text);
  if (!parts) return undefined;
  // `*` alone matches everything; `<*` and `>*` match nothing.
  if (parts.length === 0) return operator === '<' || operator === '>' ? [impossible()] : [];
  switch (operator) {
    case '=':
      return [
        { operator: '>=', bound: floor(parts) },
        { operator: '<', bound: ceiling(parts) },
      ];
    case '>=':
      return [{ operator: '>=', bound: floor(parts) }];
    case '<':
      return [{ operator: '<', bound: floor(parts) }];
    case '>':
      return [{ operator: '>=', bound: ceiling(parts) }];
    case '<=':
      return [{ operator: '<', bound: ceiling(parts) }];
  }
}

/** A comparator nothing satisfies (`<*`, `>*`). */
function impossible(): Comparator {
  return { operator: '<', bound: { release: [0, 0, 0], prerelease: [0] } };
}

function compareWith(operator: Operator, order: number): boolean {
  switch (operator) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
  }
}

/** Semver precedence: release numbers, then a prerelease sorts before its release. */
function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const difference = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  if (a.prerelease.length === 0 && b.prerelease.length === 0) return 0;
  if (a.prerelease.length === 0) return 1;
  if (b.prerelease.length === 0) return -1;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return Math.sign(x - y);
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
