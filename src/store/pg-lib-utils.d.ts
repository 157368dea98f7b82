/** node-postgres's own conversion of a parameter to what it sends (its package exports `lib/*`, untyped). */
declare module 'pg/lib/utils.js' {
  const utils: {
    prepareValue(value: unknown): string | Buffer | null;
  };
  export default utils;
}
