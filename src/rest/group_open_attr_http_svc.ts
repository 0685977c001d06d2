/** group_open_attr_http_svc: get_group_attr, the one command Tencent answers from this service. */
import { z } from "zod";
import { unwrap } from "../domain/errors.ts";
import { GroupErrorCode } from "../domain/group.ts";
import { command } from "./command.ts";
import { GroupIdField, groupOf } from "./group_attr_commands.ts";

export const getGroupAttr = command({
  body: z.object({ GroupId: GroupIdField }),
  paramErrorCode: GroupErrorCode.invalidParameter,
  async handle(ctx, body) {
    const { attributes } = unwrap(await groupOf(ctx, body.GroupId).readAttributes({ appAdmin: true }));
    return { GroupAttrAry: attributes.map(({ key, value }) => ({ key, value })) };
  },
});

export const groupOpenAttrHttpSvc = { get_group_attr: getGroupAttr };
