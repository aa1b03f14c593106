/**
 * A small built-in table of country centroids (ISO 3166-1 alpha-2 → latitude, longitude in degrees),
 * so that an event can give its location as a country instead of coordinates. A centroid is a coarse
 * position: good enough to tell Berlin from New York, not Berlin from Hamburg.
 */
export const COUNTRY_CENTROIDS: Readonly<Record<string, readonly [number, number]>> = {
  AR: [-38.4, -63.6],
  AU: [-25.3, 133.8],
  BR: [-14.2, -51.9],
  CA: [56.1, -106.3],
  CH: [46.8, 8.2],
  CN: [35.9, 104.2],
  DE: [51.2, 10.5],
  DK: [56.3, 9.5],
  EG: [26.8, 30.8],
  ES: [40.5, -3.7],
  FR: [46.2, 2.2],
  GB: [55.4, -3.4],
  IE: [53.4, -8.2],
  IN: [20.6, 79.0],
  IT: [41.9, 12.6],
  JP: [36.2, 138.3],
  KR: [35.9, 127.8],
  MX: [23.6, -102.6],
  NG: [9.1, 8.7],
  NL: [52.1, 5.3],
  NO: [60.5, 8.5],
  NZ: [-40.9, 174.9],
  PL: [51.9, 19.1],
  PT: [39.4, -8.2],
  SE: [60.1, 18.6],
  SG: [1.35, 103.8],
  US: [37.1, -95.7],
  ZA: [-30.6, 22.9],
};

/**
 * The centroid of a country in the built-in table, or null.
 *
 * @example
 * ```ts
 * countryCentroid('DE'); // [51.2, 10.5]
 * ```
 */
export function countryCentroid(code: string): readonly [number, number] | null {
  return COUNTRY_CENTROIDS[code] ?? null;
}
