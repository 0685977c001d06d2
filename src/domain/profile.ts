/**
 * Profiles: Tencent's standard tags with their value types and limits, and
 * the app's own custom tags. One rule decides whether a (tag, value) is valid.
 */
import { utf8Length } from "./account.ts";

export const ProfileErrorCode = {
  invalidParameter: 40001,
  accountNotFound: 40003,
  notAdmin: 40004,
  /** A value is longer than its tag allows. */
  valueTooLong: 40009,
} as const;

export type ProfileValue = string | number;

type TagRule =
  | { kind: "string"; maxBytes: number }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "uint32" };

const string = (maxBytes: number): TagRule => ({ kind: "string", maxBytes });
const uint32: TagRule = { kind: "uint32" };

export const AllowType = ["AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny"] as const;
export type AllowType = (typeof AllowType)[number];
export const defaultAllowType: AllowType = "AllowType_Type_NeedConfirm";

export const standardTags: Record<string, TagRule> = {
  Tag_Profile_IM_Nick: string(500),
  Tag_Profile_IM_Gender: { kind: "enum", values: ["Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"] },
  Tag_Profile_IM_BirthDay: uint32,
  Tag_Profile_IM_Location: string(16),
  Tag_Profile_IM_SelfSignature: string(500),
  Tag_Profile_IM_AllowType: { kind: "enum", values: AllowType },
  Tag_Profile_IM_Language: uint32,
  Tag_Profile_IM_Image: string(500),
  Tag_Profile_IM_AdminForbidType: { kind: "enum", values: ["AdminForbid_Type_None", "AdminForbid_Type_SendOut"] },
  Tag_Profile_IM_Level: uint32,
  Tag_Profile_IM_Role: uint32,
};

/** Tags only an app admin may set (REST), never the user's own client. */
export const adminOnlyTags = new Set(["Tag_Profile_IM_AdminForbidType", "Tag_Profile_IM_Level", "Tag_Profile_IM_Role"]);

/** Custom tag names: Tag_Profile_Custom_ followed by at most 8 letters. */
export const customTagPattern = /^Tag_Profile_Custom_[A-Za-z]{1,8}$/;
const customTagRule = string(500);

/** Why a (tag, value) is refused, or null when it is fine for this app. */
export function checkProfileItem(tag: string, value: unknown, customTags: readonly string[]): { code: number; info: string } | null {
  const rule = standardTags[tag] ?? (customTagPattern.test(tag) && customTags.includes(tag) ? customTagRule : undefined);
  if (!rule) {
    return { code: ProfileErrorCode.invalidParameter, info: customTagPattern.test(tag) ? `${tag} is not a custom tag of this app` : `unknown tag ${tag}` };
  }
  switch (rule.kind) {
    case "uint32":
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffffffff
        ? null
        : { code: ProfileErrorCode.invalidParameter, info: `${tag} must be an unsigned 32-bit integer` };
    case "enum":
      return typeof value === "string" && rule.values.includes(value)
        ? null
        : { code: ProfileErrorCode.invalidParameter, info: `${tag} must be one of ${rule.values.join(", ")}` };
    case "string":
      if (typeof value !== "string" && !(tag.startsWith("Tag_Profile_Custom_") && Number.isInteger(value))) {
        return { code: ProfileErrorCode.invalidParameter, info: `${tag} must be a string` };
      }
      return typeof value === "string" && utf8Length(value) > rule.maxBytes
        ? { code: ProfileErrorCode.valueTooLong, info: `${tag} must be at most ${rule.maxBytes} bytes` }
        : null;
  }
}

export function isKnownTag(tag: string, customTags: readonly string[]): boolean {
  return tag in standardTags || customTags.includes(tag);
}
