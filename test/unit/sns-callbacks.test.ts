/** The profile and relationship callbacks' bodies and the per-item answers, in Tencent's format. */
import { describe, expect, it } from "vitest";
import {
  friendAddFields,
  pairListFields,
  portraitSetFields,
  prevFriendAddFields,
  prevFriendResponseFields,
  readPerItemAnswer,
  refusalsOnFailure,
} from "../../src/domain/snsCallbacks.ts";

describe("relationship callback bodies", () => {
  it("names each pair's owner, the one added or removed, and who started it", () => {
    expect(pairListFields([{ from: "a", to: "b", initiator: "a" }, { from: "b", to: "a", initiator: "a" }])).toEqual({
      PairList: [
        { From_Account: "a", To_Account: "b", Initiator_Account: "a" },
        { From_Account: "b", To_Account: "a", Initiator_Account: "a" },
      ],
    });
  });

  it("tells FriendAdd the command, the admin acting over REST, and a forced add", () => {
    expect(friendAddFields([{ from: "a", to: "b", initiator: "a" }], { clientCmd: "friend_add", admin: "administrator", force: true })).toEqual({
      PairList: [{ From_Account: "a", To_Account: "b", Initiator_Account: "a" }],
      ClientCmd: "friend_add",
      Admin_Account: "administrator",
      ForceFlag: 1,
    });
    expect(friendAddFields([], { clientCmd: "friend_response", force: false })).toMatchObject({ Admin_Account: "", ForceFlag: 0 });
  });

  it("asks PrevFriendAdd with every item's fields, empty where not given", () => {
    expect(prevFriendAddFields("administrator", "a", [{ to: "b", remark: "Bee", listName: "work", addSource: "AddSource_Type_Web", addWording: "hi" }, { to: "c" }], "Add_Type_Single", false)).toEqual({
      Requester_Account: "administrator",
      From_Account: "a",
      FriendItem: [
        { To_Account: "b", Remark: "Bee", GroupName: "work", AddSource: "AddSource_Type_Web", AddWording: "hi" },
        { To_Account: "c", Remark: "", GroupName: "", AddSource: "", AddWording: "" },
      ],
      AddType: "Add_Type_Single",
      ForceAddFlags: 0,
    });
  });

  it("asks PrevFriendResponse with Tencent's response actions", () => {
    expect(prevFriendResponseFields("b", "b", [{ to: "a", remark: "Ay", action: "agreeAndAdd" }, { to: "c", action: "agree" }, { to: "d", action: "reject" }])).toEqual({
      Requester_Account: "b",
      From_Account: "b",
      ResponseFriendItem: [
        { To_Account: "a", Remark: "Ay", TagName: "", ResponseAction: "Response_Action_AgreeAndAdd" },
        { To_Account: "c", Remark: "", TagName: "", ResponseAction: "Response_Action_Agree" },
        { To_Account: "d", Remark: "", TagName: "", ResponseAction: "Response_Action_Reject" },
      ],
    });
  });

  it("tells PortraitSet who set whose tags", () => {
    expect(portraitSetFields("administrator", "a", [{ tag: "Tag_Profile_IM_Nick", value: "Ay" }])).toEqual({
      Operator_Account: "administrator",
      From_Account: "a",
      ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "Ay" }],
    });
  });
});

describe("a per-item before-callback's answer", () => {
  it("refuses the items answered with a code in 38000–39000, and lets the rest proceed", () => {
    const read = readPerItemAnswer(
      { ActionStatus: "OK", ErrorCode: 0, ResultItem: [{ To_Account: "b", ResultCode: 0 }, { To_Account: "c", ResultCode: 38001, ResultInfo: "not today" }] },
      ["b", "c", "d"],
    );
    expect(read).toEqual({ refused: new Map([["c", { code: 38001, info: "not today" }]]) });
    expect(readPerItemAnswer({ ErrorCode: 0 }, ["b"])).toEqual({ refused: new Map() });
  });

  it("refuses an item answered with any other non-zero code, as Tencent does, rather than letting it through", () => {
    expect(readPerItemAnswer({ ErrorCode: 0, ResultItem: [{ To_Account: "b", ResultCode: 1 }] }, ["b"])).toEqual({ refused: new Map([["b", { code: 1, info: "refused by the app's backend" }]]) });
    expect(readPerItemAnswer({ ErrorCode: 0, ResultItem: [{ To_Account: "b", ResultCode: 20006, ResultInfo: "no" }] }, ["b"])).toEqual({ refused: new Map([["b", { code: 20006, info: "no" }]]) });
  });

  it("is a failure when it names codes or accounts the spec does not allow", () => {
    expect(readPerItemAnswer({ ErrorCode: 1 }, ["b"])).toHaveProperty("failure");
    expect(readPerItemAnswer({ ErrorCode: 0, ResultItem: [{ To_Account: "x", ResultCode: 38000 }] }, ["b"])).toHaveProperty("failure");
    expect(readPerItemAnswer({ ErrorCode: 0, ResultItem: "no" }, ["b"])).toHaveProperty("failure");
    expect(readPerItemAnswer("not an object", ["b"])).toHaveProperty("failure");
  });

  it("on failure lets every item proceed, or refuses every one with 80003, as the app chose", () => {
    expect(refusalsOnFailure({ onTimeout: "proceed" }, ["b", "c"], "timeout")).toEqual(new Map());
    const refused = refusalsOnFailure({ onTimeout: "refuse" }, ["b", "c"], "no answer within 2000 ms");
    expect([...refused.keys()]).toEqual(["b", "c"]);
    expect(refused.get("b")).toEqual({ code: 80003, info: "the app's callback failed: no answer within 2000 ms" });
  });
});
