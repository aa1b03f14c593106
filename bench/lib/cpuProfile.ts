/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and answers where the time went: self time per
 * function, and inclusive time of named functions (a function's own time plus everything it called,
 * counted once even when it recurses).
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  functionName: string;
  /** Source location relative to the project root, `node_modules/<pkg>` for dependencies. */
  location: string;
  selfMs: number;
  selfShare: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time under frames that `exclude` matched (set-up, module loading), left out of everything else. */
  excludedMs: number;
  /** Time the shares below are relative to: total less idle and excluded. */
  busyMs: number;
  /** Time in `(idle)`, `(program)` and `(garbage collector)`, reported apart from the functions. */
  idleMs: number;
  garbageCollectorMs: number;
  topSelf: FunctionTime[];
  /** Inclusive time of each requested function name, as a share of the non-idle time. */
  inclusive: Array<{ functionName: string; ms: number; share: number }>;
  /** Self time grouped by where the code lives (a dependency, a consumer file, V8 built-ins). */
  byArea: Array<{ area: string; ms: number; share: number }>;
}

/** Shortens a profile URL: `file:///x/node_modules/zod/v4/core/schemas.js` → `node_modules/zod/…/schemas.js`. */
export function locationOf(url: string, projectRoot: string): string {
  if (url === '') return '(V8 built-in)';
  let path = url.replace(/^file:\/\//, '');
  if (path.startsWith(projectRoot)) path = path.slice(projectRoot.length).replace(/^\//, '');
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:.*\/)?([^/]+)$/.exec(path);
  if (dependency) return `node_modules/${dependency[1]}/…/${dependency[2]}`;
  return path;
}

/** The area a location belongs to, for the grouped view. */
export function areaOf(location: string): string {
  if (location.startsWith('wasm://')) return 'parquet-wasm (WebAssembly)';
  const dependency = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(location);
  if (dependency) return `node_modules/${dependency[1]}`;
  if (location.startsWith('node:')) return 'Node.js internals';
  if (location === '(V8 built-in)') return 'V8 built-ins (JSON, Buffer, strings)';
  return location;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/**
 * Summarises a CPU profile: top functions by self time, inclusive time of the named functions, and self
 * time per area.
 *
 * @example
 * ```ts
 * const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')), { projectRoot: process.cwd(),
 *   inclusiveOf: ['decodeRecord', 'encodeParquet'] });
 * ```
 */
export function summariseProfile(
  profile: CpuProfile,
  options: {
    projectRoot: string;
    inclusiveOf?: readonly string[];
    top?: number;
    /** Leaves out a matching frame and everything it called (for example the benchmark's own set-up). */
    exclude?: (frame: CpuProfileNode['callFrame']) => boolean;
  },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const excluded = new Set<number>();
  if (options.exclude) {
    const exclude = options.exclude;
    const root = profile.nodes[0];
    const stack: Array<[number, boolean]> = root ? [[root.id, false]] : [];
    while (stack.length > 0) {
      const [id, inherited] = stack.pop() as [number, boolean];
      const node = byId.get(id);
      if (!node) continue;
      const out = inherited || exclude(node.callFrame);
      if (out) excluded.add(id);
      for (const child of node.children ?? []) stack.push([child, out]);
    }
  }
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0) {
    // A sample's time is the delta to the next sample; the last one gets the mean interval.
    const meanDelta = deltas.length > 1 ? (profile.endTime - profile.startTime) / deltas.length : 0;
    for (let index = 0; index < samples.length; index++) {
      const duration = index + 1 < deltas.length ? (deltas[index + 1] as number) : meanDelta;
      const id = samples[index] as number;
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, duration));
    }
  } else {
    const interval = (profile.endTime - profile.startTime) / Math.max(1, sumHits(profile.nodes));
    for (const node of profile.nodes) selfUs.set(node.id, (node.hitCount ?? 0) * interval);
  }

  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  let totalUs = 0;
  let excludedUs = 0;
  let idleUs = 0;
  let gcUs = 0;
  const perFunction = new Map<string, FunctionTime & { us: number }>();
  const perArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    totalUs += us;
    if (excluded.has(node.id)) {
      excludedUs += us;
      continue;
    }
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') {
      idleUs += us;
      continue;
    }
    if (name === '(garbage collector)') {
      gcUs += us;
      continue;
    }
    if (SPECIAL.has(name)) continue;
    const location = locationOf(node.callFrame.url, options.projectRoot);
    // Line numbers are left out: under tsx they point into the transformed code, not the source.
    const key = `${name}@${location}`;
    const entry = perFunction.get(key) ?? {
      functionName: name || '(anonymous)',
      location,
      selfMs: 0,
      selfShare: 0,
      us: 0,
    };
    entry.us += us;
    perFunction.set(key, entry);
    const area = areaOf(location);
    perArea.set(area, (perArea.get(area) ?? 0) + us);
  }
  perArea.set('garbage collector', gcUs);
  const busyUs = Math.max(1, totalUs - idleUs - excludedUs);

  const inclusive = (options.inclusiveOf ?? []).map((functionName) => {
    let us = 0;
    for (const node of profile.nodes) {
      if (node.callFrame.functionName !== functionName) continue;
      // Count a node only if no ancestor is the same function, so recursion is not counted twice.
      let ancestor = parent.get(node.id);
      let nested = false;
      while (ancestor !== undefined) {
        if (byId.get(ancestor)?.callFrame.functionName === functionName) {
          nested = true;
          break;
        }
        ancestor = parent.get(ancestor);
      }
      if (!nested && !excluded.has(node.id)) us += subtreeUs(node.id, byId, selfUs);
    }
    return { functionName, ms: us / 1000, share: us / busyUs };
  });

  const topSelf = [...perFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, options.top ?? 15)
    .map(({ us, ...entry }) => ({ ...entry, selfMs: us / 1000, selfShare: us / busyUs }));
  const byArea = [...perArea.entries()]
    .map(([area, us]) => ({ area, ms: us / 1000, share: us / busyUs }))
    .sort((a, b) => b.ms - a.ms);
  return {
    totalMs: totalUs / 1000,
    excludedMs: excludedUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    garbageCollectorMs: gcUs / 1000,
    topSelf,
    inclusive,
    byArea,
  };
}

function sumHits(nodes: readonly CpuProfileNode[]) {
  return nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
}

function subtreeUs(id: number, byId: Map<number, CpuProfileNode>, selfUs: Map<number, number>): number {
  let us = 0;
  const stack = [id];
  while (stack.length > 0) {
    const current = stack.pop() as number;
    us += selfUs.get(current) ?? 0;
    for (const child of byId.get(current)?.children ?? []) stack.push(child);
  }
  return us;
}
