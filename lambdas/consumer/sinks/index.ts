export { InvalidEventRowError } from './arrow';
export { encodeCsv } from './csv';
export { encodeParquet } from './parquet';
