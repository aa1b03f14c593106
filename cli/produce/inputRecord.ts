/**
 * One record read from an input file: the event as an object (JSON array elements, CSV rows), or the
 * text exactly as the file holds it (NDJSON lines, and anything that could not be made into an object),
 * with the line it starts on.
 */
export interface InputRecord {
  line: number;
  data: string | Record<string, unknown>;
}
