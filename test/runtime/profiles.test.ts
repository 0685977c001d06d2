import { describe, expect, it } from "vitest";
import { TestClient } from "./clients.ts";
import { twoUsers, type TestApp } from "./helpers.ts";

type Item = { Tag: string; Value: unknown };
const profileItems = async (app: TestApp, id: string, tags?: string[]) =>
  ((await app.rest("profile/portrait_get", { To_Account: [id], TagList: tags })).body.UserProfileItem as { ProfileItem: Item[] }[])[0]!.ProfileItem;

describe("portrait_set and portrait_get", () => {
  it("stores every standard tag with its type and reads back the ones asked for", async () => {
    const { app, a } = await twoUsers();
    const items = [
      { Tag: "Tag_Profile_IM_Nick", Value: "Alice 🌸" },
      { Tag: "Tag_Profile_IM_Gender", Value: "Gender_Type_Female" },
      { Tag: "Tag_Profile_IM_BirthDay", Value: 19900101 },
      { Tag: "Tag_Profile_IM_Location", Value: "CN-GD-SZ" },
      { Tag: "Tag_Profile_IM_SelfSignature", Value: "hello" },
      { Tag: "Tag_Profile_IM_AllowType", Value: "AllowType_Type_AllowAny" },
      { Tag: "Tag_Profile_IM_Language", Value: 2052 },
      { Tag: "Tag_Profile_IM_Image", Value: "https://img.example/a.png" },
      { Tag: "Tag_Profile_IM_AdminForbidType", Value: "AdminForbid_Type_None" },
      { Tag: "Tag_Profile_IM_Level", Value: 7 },
      { Tag: "Tag_Profile_IM_Role", Value: 3 },
    ];
    const set = await app.rest("profile/portrait_set", { From_Account: a, ProfileItem: items });
    expect(set.body).toEqual({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0, ErrorDisplay: "" });
    expect(await profileItems(app, a, items.map((i) => i.Tag))).toEqual(items);
    expect(await profileItems(app, a, ["Tag_Profile_IM_Nick"])).toEqual([items[0]]);
  });

  it("answers per user, with 40003 for accounts that do not exist", async () => {
    const { app, a } = await twoUsers();
    await app.rest("profile/portrait_set", { From_Account: a, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "A" }] });
    const answer = await app.rest("profile/portrait_get", { To_Account: [a, "ghost"], TagList: ["Tag_Profile_IM_Nick"] });
    expect(answer.body).toMatchObject({
      ActionStatus: "OK",
      UserProfileItem: [
        { To_Account: a, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "A" }], ResultCode: 0 },
        { To_Account: "ghost", ProfileItem: [], ResultCode: 40003 },
      ],
      Fail_Account: ["ghost"],
    });
  });

  it.each([
    ["an unknown tag", [{ Tag: "Tag_Profile_IM_Nope", Value: "x" }], 40001],
    ["a custom tag the app did not declare", [{ Tag: "Tag_Profile_Custom_Hobby", Value: "x" }], 40001],
    ["a number where a string belongs", [{ Tag: "Tag_Profile_IM_Nick", Value: 5 }], 40001],
    ["a string where a number belongs", [{ Tag: "Tag_Profile_IM_Level", Value: "7" }], 40001],
    ["a value outside the enum", [{ Tag: "Tag_Profile_IM_Gender", Value: "Gender_Type_Robot" }], 40001],
    ["a Nick over 500 bytes", [{ Tag: "Tag_Profile_IM_Nick", Value: "字".repeat(200) }], 40009],
    ["the same tag twice", [{ Tag: "Tag_Profile_IM_Nick", Value: "a" }, { Tag: "Tag_Profile_IM_Nick", Value: "b" }], 40001],
  ])("refuses %s and changes nothing", async (_name, items, code) => {
    const { app, a } = await twoUsers();
    await app.rest("profile/portrait_set", { From_Account: a, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "before" }] });
    const answer = await app.rest("profile/portrait_set", { From_Account: a, ProfileItem: [{ Tag: "Tag_Profile_IM_SelfSignature", Value: "new" }, ...items] });
    expect(answer.body).toMatchObject({ ActionStatus: "FAIL", ErrorCode: code, ErrorDisplay: "" });
    expect(await profileItems(app, a)).toEqual([{ Tag: "Tag_Profile_IM_Nick", Value: "before" }]);
  });

  it("accepts the app's declared custom tags", async () => {
    const { app, a } = await twoUsers({ profileCustomTags: ["Tag_Profile_Custom_Hobby"] });
    await app.rest("profile/portrait_set", { From_Account: a, ProfileItem: [{ Tag: "Tag_Profile_Custom_Hobby", Value: "chess" }] });
    expect(await profileItems(app, a, ["Tag_Profile_Custom_Hobby"])).toEqual([{ Tag: "Tag_Profile_Custom_Hobby", Value: "chess" }]);
  });

  it("refuses portrait_set for an account that does not exist (40003) and more than 100 users (40001)", async () => {
    const { app } = await twoUsers();
    expect((await app.rest("profile/portrait_set", { From_Account: "ghost", ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "x" }] })).body.ErrorCode).toBe(40003);
    const many = Array.from({ length: 101 }, (_, i) => `u${i}`);
    expect((await app.rest("profile/portrait_get", { To_Account: many })).body.ErrorCode).toBe(40001);
  });
});

describe("profiles from clients", () => {
  it("reads profiles and updates the user's own, telling the user's other devices and online friends", async () => {
    const { app, a, b } = await twoUsers();
    await app.rest("sns/friend_import", { From_Account: b, AddFriendItem: [{ To_Account: a }] });
    const [a1, a2] = [await TestClient.connect(app, a, { device: "a1" }), await TestClient.connect(app, a, { device: "a2" })];
    const friend = await TestClient.connect(app, b);
    await a1.call("updateMyProfile", { items: [{ tag: "Tag_Profile_IM_Nick", value: "New Nick" }] });
    expect((await a2.waitForEvents("profileUpdated", 1))[0]).toEqual({ userID: a });
    expect((await friend.waitForEvents("profileUpdated", 1))[0]).toEqual({ userID: a });
    const read = await friend.call<{ profiles: { userId: string; items: { tag: string; value: unknown }[] }[] }>("getUserProfile", { userIDList: [a], tags: ["Tag_Profile_IM_Nick"] });
    expect(read.profiles).toEqual([{ userId: a, items: [{ tag: "Tag_Profile_IM_Nick", value: "New Nick" }], code: 0, info: "" }]);
  });

  it("does not let a client set admin-only tags", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    const answer = await client.request("updateMyProfile", { items: [{ tag: "Tag_Profile_IM_AdminForbidType", value: "AdminForbid_Type_SendOut" }] });
    expect(answer.code).toBe(40001);
  });
});
