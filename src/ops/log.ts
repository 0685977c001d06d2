/**
 * Structured logs: one JSON line per REST call or connection event, readable
 * in `wrangler tail` and Workers Logs. Callers pass only what is safe to keep:
 * never a UserSig, a key or a message body.
 */
export interface LogEvent {
  event: string;
  app?: number;
  [field: string]: string | number | boolean | undefined;
}

export function logEvent(fields: LogEvent): void {
  console.log(JSON.stringify({ ...fields, at: new Date().toISOString() }));
}
