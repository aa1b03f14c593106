import { afterEach, describe, expect, it, vi } from 'vitest';
import { liveCounter } from '../../cli/commands/up';
import { progressMessage, showProgress } from '../../cli/progress';

/** A stand-in for a terminal (or a pipe) that records what is written to it. */
const stream = (isTTY: boolean) => {
  const written: string[] = [];
  return {
    written,
    isTTY,
    write: (text: string) => {
      written.push(text);
      return true;
    },
  };
};

afterEach(() => vi.restoreAllMocks());

describe('progress and live counters', () => {
  it('go to stderr by default, never to stdout', () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const wasTTY = process.stderr.isTTY;
    process.stderr.isTTY = true;
    try {
      showProgress('processed 10/20 records');
      progressMessage('synthesizing the CDK app …');
    } finally {
      process.stderr.isTTY = wasTTY;
    }
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr.mock.calls.map(([text]) => text)).toEqual([
      '\r\x1b[2Kprocessed 10/20 records',
      'synthesizing the CDK app …\n',
    ]);
  });

  it('redraw the live counter only on a terminal, so a redirected stderr gets no control codes', () => {
    const pipe = stream(false);
    showProgress('processed 10/20 records', pipe);
    expect(pipe.written).toEqual([]);
    const terminal = stream(true);
    showProgress('processed 10/20 records', terminal);
    showProgress('', terminal);
    expect(terminal.written).toEqual(['\r\x1b[2Kprocessed 10/20 records', '\r\x1b[2K']);
  });

  it('print step messages whether or not stderr is a terminal', () => {
    const pipe = stream(false);
    progressMessage('stopping …', pipe);
    expect(pipe.written).toEqual(['stopping …\n']);
  });

  it("render up's live counter per shard, busy or idle", () => {
    expect(
      liveCounter({
        idle: false,
        shards: [
          { shardId: 'shardId-000000000000', invocations: 4, errors: 1, millisBehindLatest: 250 },
          { shardId: 'shardId-000000000001', invocations: 3, errors: 0 },
        ],
      }),
    ).toBe('processing │ 000: 4 inv, 1 err, 250 ms behind │ 001: 3 inv, 0 err, 0 ms behind');
  });
});
