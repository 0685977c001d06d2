import { beforeAll, describe, expect, it } from "vitest";
import { aRandom, text } from "./clients.ts";
import { appWithUsers, type TestApp } from "./helpers.ts";

let app: TestApp;
let a: string;
let b: string;

beforeAll(async () => {
  const made = await appWithUsers(2);
  app = made.app;
  [a, b] = made.ids as [string, string];
});

/** Every command's optional fields, each sent as "", as existing clients fill unused optional fields. */
const blankOptionals: [string, () => Promise<Record<string, unknown>> | Record<string, unknown>][] = [
  ["im_open_login_svc/account_import", () => ({ UserID: a, Nick: "", FaceUrl: "" })],
  [
    "openim/sendmsg",
    () => ({ To_Account: b, From_Account: a, MsgRandom: aRandom(), MsgBody: text("hi"), SyncOtherMachine: "", MsgLifeTime: "", MsgSeq: "", CloudCustomData: "", SendMsgControl: "", IsNeedReadReceipt: "" }),
  ],
  [
    "openim/batchsendmsg",
    () => ({ To_Account: [b], From_Account: a, MsgRandom: aRandom(), MsgBody: text("hi"), SyncOtherMachine: "", MsgLifeTime: "", MsgSeq: "", CloudCustomData: "", SendMsgControl: "", IsNeedReadReceipt: "" }),
  ],
  ["openim/importmsg", () => ({ SyncFromOldSystem: 2, From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgTimeStamp: 1_700_000_000, MsgBody: text("old"), MsgSeq: "", CloudCustomData: "" })],
  ["openim/admin_getroammsg", () => ({ Operator_Account: a, Peer_Account: b, MaxCnt: "", MinTime: "", MaxTime: "", LastMsgKey: "" })],
  [
    "openim/modify_c2c_msg",
    async () => {
      const sent = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("draft") });
      return { From_Account: a, To_Account: b, MsgKey: sent.body.MsgKey, MsgBody: text("edited"), CloudCustomData: "" };
    },
  ],
  ["openim/admin_set_msg_read", () => ({ Report_Account: b, Peer_Account: a, MsgReadTime: "" })],
  ["openim/get_c2c_unread_msg_num", () => ({ To_Account: b, Peer_Account: "" })],
  ["openim/query_online_status", () => ({ To_Account: [a], IsNeedDetail: "" })],
  ["profile/portrait_get", () => ({ To_Account: [a], TagList: "" })],
  ["recentcontact/get_list", () => ({ From_Account: a, TimeStamp: "", StartIndex: "", TopTimeStamp: "", TopStartIndex: "", AssistFlags: "" })],
  ["recentcontact/delete", () => ({ From_Account: a, Type: 1, To_Account: "someone_else", ClearRamble: "" })],
  [
    "sns/friend_add",
    () => ({ From_Account: a, AddFriendItem: [{ To_Account: b, Remark: "", GroupName: "", AddSource: "", AddWording: "" }], AddType: "", ForceAddFlags: "" }),
  ],
  [
    "sns/friend_import",
    () => ({ From_Account: b, AddFriendItem: [{ To_Account: a, Remark: "", GroupName: "", AddSource: "", AddWording: "", AddTime: "", CustomItem: "" }] }),
  ],
  ["sns/friend_get", () => ({ From_Account: a, StartIndex: "", StandardSequence: "", CustomSequence: "" })],
  ["sns/black_list_get", () => ({ From_Account: a, StartIndex: 0, MaxLimited: 10, LastSequence: "" })],
  ["sns/group_add", () => ({ From_Account: a, GroupName: ["work"], To_Account: "" })],
  ["sns/group_get", () => ({ From_Account: a, NeedFriend: "", LastSequence: "", GroupName: "" })],
  ["sns/friend_delete", () => ({ From_Account: a, To_Account: ["someone_else"], DeleteType: "" })],
  ["sns/friend_delete_all", () => ({ From_Account: a, DeleteType: "" })],
];

describe("What existing backends send: an empty optional field counts as not given", () => {
  it.each(blankOptionals)("%s", async (command, body) => {
    const answer = await app.rest(command, await body());
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" });
  });

  it.each([
    ["im_open_login_svc/account_import", { UserID: "" }, "UserID"],
    ["openim/sendmsg", { To_Account: "", MsgRandom: 1, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "x" } }] }, "To_Account"],
    ["sns/friend_check", { From_Account: "someone", To_Account: ["x"], CheckType: "" }, "CheckType"],
    ["sns/friend_add", { From_Account: "someone", AddFriendItem: [{ To_Account: "" }] }, "AddFriendItem[0].To_Account"],
  ])("an empty required field is still refused: %s", async (command, body, field) => {
    const answer = await app.rest(command, body);
    expect(answer.body.ActionStatus).toBe("FAIL");
    expect(answer.body.ErrorInfo).toMatch(new RegExp(`^${field.replace(/[[\]]/g, "\\$&")}: `));
  });
});

describe("What existing backends send: earlier field names", () => {
  it("admin_getroammsg takes From_Account and To_Account as Operator_Account and Peer_Account", async () => {
    const sent = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("earlier names") });
    const current = await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b, MaxCnt: 1 });
    const earlier = await app.rest("openim/admin_getroammsg", { From_Account: a, To_Account: b, MaxCnt: 1 });
    expect(earlier.body).toMatchObject({ ErrorCode: 0, MsgCnt: 1, LastMsgKey: sent.body.MsgKey });
    expect(earlier.body.MsgList).toEqual(current.body.MsgList);
  });

  it("names a refused field as the caller wrote it, with that field's code", async () => {
    const answer = await app.rest("openim/admin_getroammsg", { From_Account: a, To_Account: 7 });
    expect(answer.body).toMatchObject({ ErrorCode: 90003, ErrorInfo: "To_Account: expected a string, got a number" });
  });

  it("prefers the current name when both are given", async () => {
    const answer = await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b, From_Account: "not valid!", To_Account: 7 });
    expect(answer.body.ErrorCode).toBe(0);
  });
});
