/** Bounded concurrency for commands that fan out to many actors (batch sends, group lists). */

/**
 * Runs `work` over `items`, at most `width` at a time; results in the items' order. A failure is
 * rethrown only once every item has settled, so a command never answers while its work goes on.
 */
export async function inParallel<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(lanes);
  if (failure) throw failure.error;
  return results;
}
