/**
 * How Athena's OpenCSVSerde splits one line into fields: a transcription of `CSVParser.parseLine` from
 * opencsv 2.3 (au.com.bytecode.opencsv), the version Hive's OpenCSVSerde uses, with its defaults
 * (strictQuotes and ignoreLeadingWhiteSpace off). Tests use it to check the Glue CSV table's separator,
 * quote and escape characters against what `encodeCsv` writes. TextInputFormat has already split the
 * file at every newline, so one call sees one physical line.
 */
export function parseOpenCsvLine(
  line: string,
  options: { separatorChar: string; quoteChar: string; escapeChar: string },
): string[] {
  const { separatorChar: separator, quoteChar: quote, escapeChar: escapeCharacter } = options;
  if (separator === quote || separator === escapeCharacter || quote === escapeCharacter) {
    throw new Error('The separator, quote, and escape characters must be different!');
  }
  const tokens: string[] = [];
  let field = '';
  let inQuotes = false;
  let inField = false;
  const escapable = (i: number, quoted: boolean) =>
    quoted && line.length > i + 1 && (line[i + 1] === quote || line[i + 1] === escapeCharacter);
  const escapedQuote = (i: number, quoted: boolean) => quoted && line.length > i + 1 && line[i + 1] === quote;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === escapeCharacter) {
      if (escapable(i, inQuotes || inField)) {
        field += line[i + 1];
        i++;
      }
    } else if (c === quote) {
      if (escapedQuote(i, inQuotes || inField)) {
        field += line[i + 1];
        i++;
      } else {
        // opencsv's "tricky case" of a quote in the middle of an unquoted field: a,bc"d"ef,g
        if (i > 2 && line[i - 1] !== separator && line.length > i + 1 && line[i + 1] !== separator) {
          field += c;
        }
        inQuotes = !inQuotes;
      }
      inField = !inField;
    } else if (c === separator && !inQuotes) {
      tokens.push(field);
      field = '';
      inField = false;
    } else {
      field += c;
      inField = true;
    }
  }
  tokens.push(field);
  return tokens;
}
