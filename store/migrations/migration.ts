/** One versioned schema change. Versions are applied in ascending order, once each. */
export interface Migration {
  version: number;
  name: string;
  /** Multi-statement SQL, run inside the migration transaction. */
  sql: string;
}
