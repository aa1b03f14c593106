import { describe, expect, it } from 'vitest';
import { chunkBySize } from '../../lambdas/shared/chunkBySize';

const length = (text: string) => text.length;

describe('chunkBySize', () => {
  it('starts a new chunk when the next item would pass the byte limit, keeping the order', () => {
    expect([...chunkBySize(['aa', 'bb', 'c', 'dddd'], { maxItems: 10, maxBytes: 4 }, length)]).toEqual([
      ['aa', 'bb'],
      ['c'],
      ['dddd'],
    ]);
  });

  it('starts a new chunk at the item limit', () => {
    expect([...chunkBySize(['a', 'b', 'c'], { maxItems: 2, maxBytes: 100 }, length)]).toEqual([
      ['a', 'b'],
      ['c'],
    ]);
  });

  it('puts an item larger than the byte limit in a chunk of its own', () => {
    expect([...chunkBySize(['a', 'too large', 'b'], { maxItems: 10, maxBytes: 4 }, length)]).toEqual([
      ['a'],
      ['too large'],
      ['b'],
    ]);
  });
});
