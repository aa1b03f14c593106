import { describe, expect, it } from 'vitest';
import { formatCsv, formatJson, formatTable } from '../../cli/format';

const result = {
  columns: ['event_type', 'events', 'usd'],
  rows: [
    ['page_view', 3942, null],
    ['add_to_cart', 14, '270911.98'],
  ],
};

describe('query output formats', () => {
  it('aligns a table with numbers on the right and NULL for missing values', () => {
    expect(formatTable(result).split('\n')).toEqual([
      'event_type  │ events │ usd',
      '────────────┼────────┼──────────',
      'page_view   │   3942 │      NULL',
      'add_to_cart │     14 │ 270911.98',
      '(2 rows)',
    ]);
  });

  it('quotes CSV fields that need it and leaves NULL empty', () => {
    expect(
      formatCsv({
        columns: ['a', 'b'],
        rows: [
          ['x,y', null],
          ['say "hi"', 1],
        ],
      }),
    ).toBe('a,b\n"x,y",\n"say ""hi""",1');
  });

  it('gives JSON objects keyed by column', () => {
    expect(JSON.parse(formatJson(result))[1]).toEqual({
      event_type: 'add_to_cart',
      events: 14,
      usd: '270911.98',
    });
  });
});
