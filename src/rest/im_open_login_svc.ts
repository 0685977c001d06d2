/** im_open_login_svc: importing, deleting and checking accounts. */
import { z } from "zod";
import { FaceUrl, isValidUserId, Nick, UserId } from "../domain/account.ts";
import { isAppAdmin } from "../domain/app.ts";
import { ErrorCode } from "../domain/errors.ts";
import { optional, withEarlierNames } from "../domain/wire.ts";
import { userActor } from "../actors/refs.ts";
import { deleteAccounts, existingAccounts, importAccounts } from "../store/accounts.ts";
import { command } from "./command.ts";

const maxAccountsPerCall = 100;

/** Tencent's earlier documentation named the account `Identifier`; clients written then still send it. */
const earlierNames = { Identifier: "UserID" };

/** An object naming one account by UserID (or Identifier). */
const AccountRef = withEarlierNames(earlierNames, z.object({ UserID: UserId }));
const UserItem = AccountRef.transform((item) => item.UserID);

const UserItems = z.array(UserItem).min(1, "must name at least one account").max(maxAccountsPerCall, `must name at most ${maxAccountsPerCall} accounts`);

const paramErrorCode = ErrorCode.accountParamInvalid;

export const accountImport = command({
  body: withEarlierNames(earlierNames, z.object({ UserID: UserId, Nick: optional(Nick), FaceUrl: optional(FaceUrl) })),
  paramErrorCode,
  async handle({ env, app }, body) {
    await importAccounts(env.DB, app.sdkAppId, [{ userId: body.UserID, nick: body.Nick, faceUrl: body.FaceUrl }]);
    return {};
  },
});

export const multiaccountImport = command({
  body: z.object({
    Accounts: z
      .array(z.string({ error: "must be an array of strings" }))
      .min(1, "must name at least one account")
      .max(maxAccountsPerCall, `must name at most ${maxAccountsPerCall} accounts`),
  }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const valid = [...new Set(body.Accounts.filter(isValidUserId))];
    await importAccounts(env.DB, app.sdkAppId, valid.map((userId) => ({ userId })));
    return { FailAccounts: body.Accounts.filter((id) => !isValidUserId(id)) };
  },
});

export const accountDelete = command({
  body: z.object({ DeleteItem: UserItems }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const ids = body.DeleteItem;
    const existing = await existingAccounts(env.DB, app.sdkAppId, ids);
    const doomed = [...existing].filter((id) => !isAppAdmin(app, id));
    await deleteAccounts(env.DB, app.sdkAppId, doomed);
    // Their sockets close and their message stores empty.
    await Promise.all(doomed.map((userId) => userActor(env, { sdkAppId: app.sdkAppId, userId }).purge()));
    return {
      ResultItem: ids.map((id) => {
        if (isAppAdmin(app, id)) {
          return { ResultCode: ErrorCode.accountParamInvalid, ResultInfo: "an app admin cannot be deleted", UserID: id };
        }
        if (!existing.has(id)) return { ResultCode: ErrorCode.accountNotFound, ResultInfo: "account does not exist", UserID: id };
        return { ResultCode: 0, ResultInfo: "", UserID: id };
      }),
    };
  },
});

export const accountCheck = command({
  body: z.object({ CheckItem: UserItems }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const existing = await existingAccounts(env.DB, app.sdkAppId, body.CheckItem);
    return {
      ResultItem: body.CheckItem.map((id) => ({
        UserID: id,
        ResultCode: 0,
        ResultInfo: "",
        AccountStatus: existing.has(id) || isAppAdmin(app, id) ? "Imported" : "NotImported",
      })),
    };
  },
});

export const kick = command({
  body: AccountRef,
  paramErrorCode,
  async handle({ env, app }, body) {
    const ref = { sdkAppId: app.sdkAppId, userId: body.UserID };
    await userActor(env, ref).kick("kickedByAdmin");
    return {};
  },
});

export const imOpenLoginSvc = {
  kick,
  account_import: accountImport,
  multiaccount_import: multiaccountImport,
  account_delete: accountDelete,
  account_check: accountCheck,
};
