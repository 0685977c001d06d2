/**
 * Which fan-out hub holds a user's group connections. Deterministic, so a
 * group reaches its members' hubs without a registry of who is online: a
 * message costs one call per hub that serves any of its members, at most the
 * app's hub count, however many members are online.
 */

/** 32-bit FNV-1a over the id's UTF-16 code units: stable, fast, well spread for short ids. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function hubOf(userId: string, hubCount: number): number {
  return fnv1a(userId) % hubCount;
}

/** Members grouped by the hub that holds their group connections. */
export function byHub(userIds: Iterable<string>, hubCount: number): Map<number, string[]> {
  const hubs = new Map<number, string[]>();
  for (const userId of userIds) {
    const hub = hubOf(userId, hubCount);
    const list = hubs.get(hub);
    if (list) list.push(userId);
    else hubs.set(hub, [userId]);
  }
  return hubs;
}
