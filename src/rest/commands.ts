/** Every REST command edge-im answers, by "service/command". */
import type { Command } from "./command.ts";
import { imOpenLoginSvc } from "./im_open_login_svc.ts";
import { openim } from "./openim.ts";
import { profile } from "./profile.ts";
import { recentcontact } from "./recentcontact.ts";
import { sns } from "./sns.ts";

const services: Record<string, Record<string, Command>> = {
  im_open_login_svc: imOpenLoginSvc,
  openim,
  recentcontact,
  profile,
  sns,
};

export function findCommand(service: string, name: string): Command | undefined {
  return Object.hasOwn(services, service) && Object.hasOwn(services[service]!, name) ? services[service]![name] : undefined;
}
