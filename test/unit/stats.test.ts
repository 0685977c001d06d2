import { describe, expect, it } from "vitest";
import { addCounts, appInfoFields, appInfoRows, dayOf, lastDays, pendingEntries, type PendingCounts } from "../../src/domain/stats.ts";
import { checkDirtyWords, muteLeft, muteUntil, withDirtyWords, withoutDirtyWords } from "../../src/domain/moderation.ts";

const app = { sdkAppId: 1400000000, name: "demo" };

describe("statistics days", () => {
  it("are UTC days as YYYYMMDD, newest first", () => {
    expect(dayOf(Date.UTC(2026, 10, 27, 23, 59))).toBe(20261127);
    expect(lastDays(Date.UTC(2026, 2, 1, 1), 3)).toEqual([20260301, 20260228, 20260227]);
  });
});

describe("pending counts", () => {
  it("add up per day and field, with totals on day 0", () => {
    const pending: PendingCounts = {};
    addCounts(pending, 20261127, { C2CUpMsgNum: 1, GroupAllGroupNum: 1 });
    addCounts(pending, 20261127, { C2CUpMsgNum: 2, OnlineNum: -1, GroupUpMsgNum: 0 });
    expect(pendingEntries(pending).sort()).toEqual([[0, "GroupAllGroupNum", 1], [0, "OnlineNum", -1], [20261127, "C2CUpMsgNum", 3]].sort());
  });
});

describe("getappinfo rows", () => {
  const days = [20261127, 20261126, 20261125];
  const rows = [
    { day: 0, field: "RegistUserNumTotal", value: 10 },
    { day: 0, field: "GroupAllGroupNum", value: 4 },
    { day: 20261127, field: "RegistUserNumOneDay", value: 3 },
    { day: 20261127, field: "RegistUserNumDeleted", value: 1 },
    { day: 20261126, field: "RegistUserNumOneDay", value: 5 },
    { day: 20261127, field: "GroupNewGroupNum", value: 2 },
    { day: 20261126, field: "GroupDestroyGroupNum", value: 1 },
    { day: 20261127, field: "C2CUpMsgNum", value: 7 },
    { day: 20261127, field: "GroupUpMsgNum", value: 2 },
    { day: 20261127, field: "C2CDownMsgNum", value: 7 },
    { day: 20261127, field: "GroupDownMsgNum", value: 9 },
  ];

  it("work each day's totals back from the running total", () => {
    const result = appInfoRows(app, rows, days);
    expect(result.map((r) => r.RegistUserNumTotal)).toEqual(["10", "8", "3"]);
    expect(result.map((r) => r.GroupAllGroupNum)).toEqual(["4", "2", "3"]);
  });

  it("add up the one-to-one and group figures, answer 0 for pushes this server does not make, and give every value as a string", () => {
    const [today] = appInfoRows(app, rows, days);
    expect(today).toMatchObject({ UpMsgNum: "9", DownMsgNum: "16", APNSMsgNum: "0", C2CAPNSMsgNum: "0", GroupAPNSMsgNum: "0", AppId: "1400000000", AppName: "demo", Date: "20261127" });
    expect(Object.keys(today!)).toEqual([...appInfoFields]);
  });

  it("answer the fields asked for, in the order asked", () => {
    expect(appInfoRows(app, rows, days.slice(0, 1), ["Date", "C2CUpMsgNum"])).toEqual([{ Date: "20261127", C2CUpMsgNum: "7" }]);
  });
});

describe("moderation rules", () => {
  it("refuse a message whose readable text contains a word, whatever its case", () => {
    expect(() => checkDirtyWords(["Spam"], [{ MsgType: "TIMTextElem", MsgContent: { Text: "buy SPAM now" } }])).toThrow(expect.objectContaining({ code: 80001 }));
    expect(() => checkDirtyWords(["spam"], [{ MsgType: "TIMCustomElem", MsgContent: { Data: "x", Desc: "spam inside" } }])).toThrow(expect.objectContaining({ code: 80001 }));
    expect(() => checkDirtyWords(["spam"], [{ MsgType: "TIMTextElem", MsgContent: { Text: "all clean" } }])).not.toThrow();
  });

  it("keep each word once and remove words whatever their case", () => {
    expect(withDirtyWords(["a"], ["A", "b", "b"])).toEqual(["a", "b"]);
    expect(withoutDirtyWords(["a", "B"], ["b"])).toEqual(["a"]);
  });

  it("mute for a time, forever, or not at all", () => {
    expect(muteUntil(60, 1000)).toBe(1060);
    expect(muteUntil(0, 1000)).toBe(0);
    expect(muteUntil(4294967295, 1000)).toBe(4294967295);
    expect(muteLeft(1060, 1030)).toBe(30);
    expect(muteLeft(1060, 2000)).toBe(0);
    expect(muteLeft(4294967295, 2000)).toBe(4294967295);
  });
});
