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

  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+cmd|calc', "'+cmd|calc"],
    ['-2+3+cmd|calc', "'-2+3+cmd|calc"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
  ])('guards a CSV cell that a spreadsheet would run as a formula: %j', (cell, written) => {
    expect(formatCsv({ columns: ['c'], rows: [[cell]] })).toBe(`c\n${written}`);
  });

  it('leaves numbers alone in CSV, also when they arrive as text (Athena, DuckDB DECIMAL)', () => {
    expect(formatCsv({ columns: ['a', 'b', 'c', 'd'], rows: [[-12.5, '-12.5', '+3', '-1e-7']] })).toBe(
      'a,b,c,d\n-12.5,-12.5,+3,-1e-7',
    );
  });

  it('gives JSON objects keyed by column', () => {
    expect(JSON.parse(formatJson(result))[1]).toEqual({
      event_type: 'add_to_cart',
      events: 14,
      usd: '270911.98',
    });
  });
});
