/**
 * Devices and the multi-login policy: which platforms a user is on, and who is
 * kicked when another device of the same class logs in.
 */
import { z } from "zod";

export const Platform = z.enum(["Web", "Android", "iOS", "iPad", "AndroidPad", "Windows", "Mac", "Linux", "Unknown"]);
export type Platform = z.infer<typeof Platform>;

export type PlatformClass = "web" | "mobile" | "pad" | "desktop" | "other";

export function platformClass(platform: Platform): PlatformClass {
  switch (platform) {
    case "Web":
      return "web";
    case "Android":
    case "iOS":
      return "mobile";
    case "iPad":
    case "AndroidPad":
      return "pad";
    case "Windows":
    case "Mac":
    case "Linux":
      return "desktop";
    default:
      return "other";
  }
}

/** How many connections of each platform class one user may hold at once. */
export const LoginPolicy = z.object({
  web: z.number().int().min(1).max(10).default(10),
  mobile: z.number().int().min(1).max(3).default(1),
  pad: z.number().int().min(1).max(3).default(1),
  desktop: z.number().int().min(1).max(3).default(1),
  other: z.number().int().min(1).max(3).default(1),
});
export type LoginPolicy = z.infer<typeof LoginPolicy>;

export interface Device {
  id: string;
  platform: Platform;
  /** Milliseconds when it logged in. */
  loggedInAt: number;
}

/**
 * Which of the already-connected devices to kick when `incoming` logs in:
 * the oldest of its class beyond the policy's limit. A reconnect of the same
 * device id always replaces its old connection.
 */
export function devicesToKick(connected: Device[], incoming: Device, policy: LoginPolicy): Device[] {
  const sameDevice = connected.filter((d) => d.id === incoming.id);
  const cls = platformClass(incoming.platform);
  const sameClass = connected
    .filter((d) => d.id !== incoming.id && platformClass(d.platform) === cls)
    .sort((a, b) => a.loggedInAt - b.loggedInAt);
  const excess = Math.max(0, sameClass.length + 1 - policy[cls]);
  return [...sameDevice, ...sameClass.slice(0, excess)];
}
