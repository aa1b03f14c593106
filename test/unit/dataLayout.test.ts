import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_LAYOUT_VERSION, OldDataLayoutError, requireDataLayout } from '../../local/dataLayout';

const fresh = () => mkdtemp(join(tmpdir(), 'shardline-layout-'));

describe('the local data directory layout', () => {
  it('marks a new, empty directory with the current layout', async () => {
    const dir = await fresh();
    await requireDataLayout(dir);
    expect(JSON.parse(await readFile(join(dir, 'layout.json'), 'utf8'))).toEqual({
      version: DATA_LAYOUT_VERSION,
    });
  });

  it('accepts a directory it marked before', async () => {
    const dir = await fresh();
    await requireDataLayout(dir);
    await mkdir(join(dir, 'dynamodb'));
    await expect(requireDataLayout(dir)).resolves.toBeUndefined();
  });

  it('refuses emulator data written by an older Shardline, saying how to start clean', async () => {
    const dir = await fresh();
    await mkdir(join(dir, 'dynamodb'));
    await expect(requireDataLayout(dir)).rejects.toThrow(OldDataLayoutError);
    await expect(requireDataLayout(dir)).rejects.toThrow(`rm -rf ${dir}`);
  });

  it('refuses a directory marked with another layout version', async () => {
    const dir = await fresh();
    await writeFile(join(dir, 'layout.json'), JSON.stringify({ version: 1 }));
    await expect(requireDataLayout(dir)).rejects.toThrow(/data layout 1/);
  });
});
