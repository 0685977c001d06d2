import { describe, expect, it } from "vitest";
import { takeToken, type TokenBucket } from "../../src/domain/rateLimit.ts";

function run(limit: number, times: number[]): boolean[] {
  let bucket: TokenBucket | undefined;
  return times.map((t) => {
    const result = takeToken(bucket, limit, t);
    bucket = result.bucket;
    return result.allowed;
  });
}

describe("token bucket", () => {
  it("allows a burst of one second's worth, then refuses", () => {
    expect(run(3, [0, 0, 0, 0])).toEqual([true, true, true, false]);
  });
  it("refills at the limit's rate", () => {
    expect(run(2, [0, 0, 0, 499, 500, 501])).toEqual([true, true, false, false, true, false]);
  });
  it("never saves up more than one second's worth", () => {
    expect(run(2, [0, 10_000, 10_000, 10_000])).toEqual([true, true, true, false]);
  });
  it("tolerates a clock that steps back", () => {
    expect(run(1, [1000, 500, 2000])).toEqual([true, false, true]);
  });
});
