/**
 * Counts the entries the runtime makes into a Durable Object: WebSocket
 * frames, and calls (RPC methods, fetch, alarm, socket events). The count is
 * what Cloudflare bills an object by; benchmarks read it per message.
 */
export interface EntryCounts {
  /** `webSocketMessage` entries (billed at 1/20 of a request). */
  frames: number;
  /** Every other entry. */
  calls: number;
}

const countsOf = new WeakMap<object, EntryCounts>();

/**
 * The object the runtime should hold in place of `actor` (return it from the
 * constructor): a view that counts each method entered through it. Methods run
 * on `actor` itself, so calls an actor makes on itself are not counted.
 * `uncounted` names methods that only report (reading the counts is free).
 */
export function countEntries<T extends object>(actor: T, uncounted: string[] = []): T {
  const counts: EntryCounts = { frames: 0, calls: 0 };
  countsOf.set(actor, counts);
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(actor, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function" || property === "constructor") return value;
      let entry = wrapped.get(property);
      if (!entry) {
        const method = value as (...args: unknown[]) => unknown;
        const counted = !uncounted.includes(String(property));
        entry = (...args: unknown[]) => {
          if (property === "webSocketMessage") counts.frames++;
          else if (counted) counts.calls++;
          return method.apply(target, args);
        };
        wrapped.set(property, entry);
      }
      return entry;
    },
  });
}

/** What `actor` was entered with since it woke (zeros for an object never wrapped). */
export function entryCounts(actor: object): EntryCounts {
  return { ...(countsOf.get(actor) ?? { frames: 0, calls: 0 }) };
}
