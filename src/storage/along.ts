// A read that rides along in another module's statement, so that two lookups made one after the other
// cost one round trip (the login throttle's check inside an MFA code submission's attempt count).
export interface Along<T> {
  /** A scalar subquery (one value, NULL when nothing), given the placeholder of its one parameter. */
  sql: (placeholder: string) => string;
  param: unknown;
  /** The value as pg hands it out (jsonb parsed) → the result. */
  parse: (value: unknown) => T;
}
