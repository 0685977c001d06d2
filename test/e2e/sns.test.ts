/** Relationship chains end to end: a friend request between two real WebSocket clients. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../scripts/dev-server.ts";
import { ProtocolClient } from "../support/protocol-client.ts";
import { connect, rest } from "./clients.ts";

describe("friends under wrangler dev", () => {
  let server: RunningServer;
  const a = `e2e_fa_${Date.now().toString(36)}`;
  const b = `e2e_fb_${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer();
    expect((await rest(server, "im_open_login_svc/multiaccount_import", { Accounts: [a, b] })).ErrorCode).toBe(0);
  });
  afterAll(async () => {
    await ProtocolClient.closeAll();
    await server?.stop();
  });

  it("shows a request made by one client on the other's, which accepts it", async () => {
    const alice = await connect(server, a, "alice-tab");
    const bob = await connect(server, b, "bob-tab");
    const sent = await alice.call("addFriend", { to: b, wording: "it's Alice", source: "AddSource_Type_Web" });
    expect(sent).toMatchObject({ userId: b, code: 30539 });

    await bob.waitForEvents("friendApplicationListUpdated", 1);
    const requests = await bob.call<{ incoming: { requester: string; addWording: string }[] }>("getFriendApplicationList");
    expect(requests.incoming).toEqual([expect.objectContaining({ requester: a, addWording: "it's Alice" })]);

    await bob.call("acceptFriendApplication", { userID: a, type: "agreeAndAdd" });
    await alice.waitForEvents("friendListUpdated", 1);
    expect(await alice.call("checkFriend", { userIDList: [b] })).toEqual({ results: [{ userId: b, relation: "CheckResult_Type_BothWay" }] });
    const check = await rest(server, "sns/friend_check", { From_Account: b, To_Account: [a], CheckType: "CheckResult_Type_Both" });
    expect((check.InfoItem as { Relation: string }[])[0]!.Relation).toBe("CheckResult_Type_BothWay");
  });
});
