/** Every REST command edge-im answers, by "service/command". */
import type { Command } from "./command.ts";
import { edgeimAdminSvc } from "./edgeim_admin_svc.ts";
import { groupAttrCommands } from "./group_attr_commands.ts";
import { groupOpenHttpSvc } from "./group_open_http_svc.ts";
import { groupOpenAttrHttpSvc } from "./group_open_attr_http_svc.ts";
import { imOpenLoginSvc } from "./im_open_login_svc.ts";
import { groupOpenAvchatroomHttpSvc, liveAdminCommands, liveGroupCommands } from "./live_commands.ts";
import { millionGroupOpenHttpSvc } from "./million_group_open_http_svc.ts";
import { openim } from "./openim.ts";
import { profile } from "./profile.ts";
import { recentcontact } from "./recentcontact.ts";
import { sns } from "./sns.ts";

const services: Record<string, Record<string, Command>> = {
  im_open_login_svc: imOpenLoginSvc,
  group_open_http_svc: { ...groupOpenHttpSvc, ...groupAttrCommands, ...liveGroupCommands },
  group_open_avchatroom_http_svc: groupOpenAvchatroomHttpSvc,
  openim,
  recentcontact,
  profile,
  sns,
  group_open_attr_http_svc: groupOpenAttrHttpSvc,
  million_group_open_http_svc: millionGroupOpenHttpSvc,
  edgeim_admin_svc: { ...edgeimAdminSvc, ...liveAdminCommands },
};

/** Every command, by service (what the property-based tests fuzz). */
export function everyCommand(): { service: string; name: string; command: Command }[] {
  return Object.entries(services).flatMap(([service, table]) => Object.entries(table).map(([name, command]) => ({ service, name, command })));
}

export function findCommand(service: string, name: string): Command | undefined {
  return Object.hasOwn(services, service) && Object.hasOwn(services[service]!, name) ? services[service]![name] : undefined;
}

/** Each service's code for "internal error, retry" (Tencent's per-service codes). */
const internalErrorCodes: Record<string, number> = {
  im_open_login_svc: 70500,
  group_open_http_svc: 10002,
  openim: 91000,
  profile: 40006,
  sns: 30006,
  recentcontact: 50000,
  group_open_attr_http_svc: 10002,
  million_group_open_http_svc: 10002,
  group_open_avchatroom_http_svc: 10002,
  edgeim_admin_svc: 60002,
};

export function internalErrorCode(service: string): number {
  return internalErrorCodes[service] ?? 70500;
}
