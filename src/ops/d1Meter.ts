/**
 * Counts the D1 rows one request reads and writes, from each query's
 * result meta, so the request's log line can say what it cost.
 */
export interface D1Usage {
  rowsRead: number;
  rowsWritten: number;
  queries: number;
}

interface Meta {
  rows_read?: number;
  rows_written?: number;
}

/** A D1Database that behaves as `db` and adds every query's meta to `usage`. */
export function meteredD1(db: D1Database, usage: D1Usage): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const count = (meta: Meta | undefined) => {
    usage.queries++;
    usage.rowsRead += meta?.rows_read ?? 0;
    usage.rowsWritten += meta?.rows_written ?? 0;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      async all<T>() {
        const result = await statement.all<T>();
        count(result.meta);
        return result;
      },
      async run<T>() {
        const result = await statement.run<T>();
        count(result.meta);
        return result;
      },
      // first() reports no meta: read through all() and take the first row.
      async first<T>(column?: string) {
        const result = await statement.all<Record<string, unknown>>();
        count(result.meta);
        const row = result.results[0];
        if (!row) return null;
        return (column === undefined ? row : row[column]) as T;
      },
      raw: statement.raw.bind(statement),
    } as unknown as D1PreparedStatement;
    real.set(wrapped, statement);
    return wrapped;
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === "prepare") return (query: string) => wrap(target.prepare(query));
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements.map((s) => real.get(s) ?? s));
          for (const result of results) count(result.meta);
          return results;
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
