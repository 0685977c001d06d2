/**
 * Bounds on parsed JSON that schemas cannot give: a schema walks nested values
 * recursively, so a body nested hundreds of levels deep (forwarded messages
 * inside forwarded messages) would exhaust the stack before any rule is checked.
 */

/** Deeper than any real request: a message forwarded ten times inside itself is about 50 levels. */
export const maxJsonDepth = 64;

/** Whether `value` nests objects and arrays more than `max` levels deep (walked without recursion). */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
