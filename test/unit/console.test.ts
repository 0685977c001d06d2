import { describe, expect, it } from "vitest";
import { AppSettings, mergeSettings } from "../../src/domain/app.ts";
import { afterFailure, failureMemoryMs, guardedAddress, maxBackoffMs, retryAt, sameSecret, scopeProblem, type FailureRecord } from "../../src/domain/console.ts";

describe("the wait after wrong keys", () => {
  function afterWrongKeys(n: number, at = 1_000_000): FailureRecord | undefined {
    let record: FailureRecord | undefined;
    for (let i = 0; i < n; i++) record = afterFailure(record, at);
    return record;
  }

  it("lets the first five through, then doubles from one second to fifteen minutes", () => {
    expect(retryAt(afterWrongKeys(4), 1_000_000)).toBe(0);
    expect(retryAt(afterWrongKeys(5), 1_000_000)).toBe(1_001_000);
    expect(retryAt(afterWrongKeys(6), 1_000_000)).toBe(1_002_000);
    expect(retryAt(afterWrongKeys(8), 1_000_000)).toBe(1_008_000);
    expect(retryAt(afterWrongKeys(40), 1_000_000)).toBe(1_000_000 + maxBackoffMs);
  });

  it("forgets wrong keys after an hour without one", () => {
    const record = afterWrongKeys(30)!;
    expect(retryAt(record, record.lastAt + failureMemoryMs + 1)).toBe(0);
    expect(afterFailure(record, record.lastAt + failureMemoryMs + 1).failures).toBe(1);
  });
});

describe("console scope and secrets", () => {
  it("lets the deployment act for any app and an app's operator for its own", () => {
    expect(scopeProblem({ role: "deployment", csrf: "x".repeat(16) }, 7)).toBeUndefined();
    expect(scopeProblem({ role: "app", app: 7, csrf: "x".repeat(16) }, 7)).toBeUndefined();
    expect(scopeProblem({ role: "app", app: 7, csrf: "x".repeat(16) }, 8)).toBe("this session belongs to app 7; it may not act for app 8");
  });

  it("compares secrets whole", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    for (const other of ["abd", "ab", "abcd", "", "bca"]) expect(sameSecret("abc", other), other).toBe(false);
  });
});

describe("a settings change", () => {
  const current = AppSettings.parse({});

  it("merges objects field by field and replaces the rest", () => {
    const result = mergeSettings(current, { groups: { maxMembers: { Public: 10 } }, profileCustomTags: ["Tag_Profile_Custom_A"], commandRateLimits: { "openim/sendmsg": 5 } });
    const merged = AppSettings.parse((result as { merged: unknown }).merged);
    expect(merged.groups.maxMembers).toEqual({ ...current.groups.maxMembers, Public: 10 });
    expect(merged.groups.messagesPerSecond).toBe(40);
    expect(merged.profileCustomTags).toEqual(["Tag_Profile_Custom_A"]);
    expect(merged.commandRateLimits).toEqual({ "openim/sendmsg": 5 });
  });

  it("names a setting that does not exist, at any depth", () => {
    expect(mergeSettings(current, { recallWindow: 1 })).toEqual({ problem: "recallWindow: no such setting" });
    expect(mergeSettings(current, { loginPolicy: { watch: 1 } })).toEqual({ problem: "loginPolicy.watch: no such setting" });
    expect(mergeSettings(current, { callbacks: null })).toEqual({ problem: "callbacks: set them with edgeim_admin_svc/set_callback" });
  });
});

describe("whose wrong keys a try counts with", () => {
  it("is an IPv4 address itself, an IPv6 address's /64 however it is written", () => {
    expect(guardedAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(guardedAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
    for (const a of ["2001:db8:1:2::1", "2001:DB8:1:2:ffff:1:2:3", "2001:0db8:0001:0002::", "2001:db8:1:2:0::9"]) expect(guardedAddress(a), a).toBe("2001:db8:1:2::/64");
    expect(guardedAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(guardedAddress("::1")).toBe("0:0:0:0::/64");
    expect(guardedAddress("2001:db8:1:3::1")).not.toBe(guardedAddress("2001:db8:1:2::1"));
  });
});
