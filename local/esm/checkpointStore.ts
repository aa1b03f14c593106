import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What survives a restart for one shard, like the checkpoint Lambda's own mapping keeps. */
export interface ShardCheckpoint {
  shardId: string;
  /** Every record up to and including this one is done. */
  lastProcessedSequenceNumber?: string;
  /** The shard was closed (resharding) and every record in it is done: its children may start. */
  ended?: boolean;
  /** A LATEST start before any record was processed: resume at records that arrived from this time. */
  startedAtMs?: number;
}

/** What survives a restart for the mapping as a whole. */
export interface MappingState {
  streamArn: string;
  functionArn: string;
  /** The shards that existed when the mapping first started: StartingPosition applies to these only. */
  initialShardIds: string[];
  createdAtMs: number;
}

/**
 * JSON files in the state directory: `mapping.json` and `shards/<shardId>.json`. Writes go to a temporary
 * file first and are renamed into place, so a crash never leaves half a checkpoint; writes to one shard
 * are serialized and coalesced.
 */
export class CheckpointStore {
  private readonly writes = new Map<string, Promise<void>>();
  private readonly latest = new Map<string, ShardCheckpoint>();

  constructor(private readonly stateDir: string) {}

  /**
   * The mapping state, or undefined on the first start.
   *
   * @example
   * ```ts
   * const state = await new CheckpointStore('.shardline/esm').loadMapping();
   * ```
   */
  async loadMapping(): Promise<MappingState | undefined> {
    return readJson<MappingState>(join(this.stateDir, 'mapping.json'));
  }

  async saveMapping(state: MappingState): Promise<void> {
    await writeAtomically(join(this.stateDir, 'mapping.json'), state);
  }

  async loadShard(shardId: string): Promise<ShardCheckpoint | undefined> {
    return readJson<ShardCheckpoint>(this.shardFile(shardId));
  }

  /** Queues a write of the shard's checkpoint; only the newest queued state is written. */
  saveShard(checkpoint: ShardCheckpoint): Promise<void> {
    const { shardId } = checkpoint;
    const queued = this.latest.has(shardId);
    this.latest.set(shardId, checkpoint);
    if (queued) return this.writes.get(shardId) ?? Promise.resolve();
    const previous = this.writes.get(shardId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const newest = this.latest.get(shardId);
      this.latest.delete(shardId);
      if (newest) await writeAtomically(this.shardFile(shardId), newest);
    });
    this.writes.set(shardId, next);
    return next;
  }

  /** Resolves once every queued write is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  private shardFile(shardId: string): string {
    return join(this.stateDir, 'shards', `${shardId}.json`);
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

let temporaryCounter = 0;

async function writeAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  temporaryCounter += 1;
  const temporary = `${file}.${process.pid}.${temporaryCounter}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, file);
}
