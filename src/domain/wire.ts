/**
 * Field rules of the Tencent-compatible REST bodies that are about the wire, not the domain:
 * what existing clients send (empty strings for unused optional fields, earlier field names)
 * and how a refused field is described to the caller.
 */
import { z } from "zod";

/**
 * An optional field. An empty string counts as not given: Tencent clients fill the optional
 * fields they do not use with "". A required field stays required, so "" there is refused.
 */
export function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema.optional()).optional();
}

/**
 * An object that also accepts fields under earlier names (`{earlier: current}`), which existing
 * clients still send; the current name wins when both are given. A refused field is named as
 * the caller wrote it.
 */
export function withEarlierNames<T extends z.ZodType>(earlierNames: Record<string, string>, schema: T) {
  return z.unknown().transform((input, ctx): z.output<T> => {
    const written = new Map<PropertyKey, string>();
    let value = input;
    if (isObject(input)) {
      const fields: Record<string, unknown> = { ...input };
      for (const [earlier, current] of Object.entries(earlierNames)) {
        if (fields[current] === undefined && fields[earlier] !== undefined) {
          fields[current] = fields[earlier];
          written.set(current, earlier);
        }
        delete fields[earlier];
      }
      value = fields;
    }
    const parsed = schema.safeParse(value, { reportInput: true, error: defaultMessage });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const [head, ...rest] = issue.path;
      // The issues are already complete (message, input); they pass up with the field renamed back.
      ctx.issues.push({ ...issue, path: head === undefined ? [] : [written.get(head) ?? head, ...rest] } as z.core.$ZodRawIssue);
    }
    return z.NEVER;
  });
}

/** The result of parsing a REST body: its data, or "Field: what is wrong" with the top-level field's name. */
export type BodyCheck<T> = { ok: true; data: T } | { ok: false; field: string; info: string };

/**
 * Parses a REST body. The first problem found is described as "Field: what is wrong", the field
 * named by its path as the caller wrote it (DeleteItem[2].UserID).
 */
export function checkBody<T extends z.ZodType>(schema: T, body: unknown): BodyCheck<z.output<T>> {
  // reportInput keeps each issue's value, which tells a missing field from one of the wrong type.
  const parsed = schema.safeParse(body, { reportInput: true, error: defaultMessage });
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0]!;
  const path = issue.path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
  const problem = whatIsWrong(issue);
  return { ok: false, field: String(issue.path[0] ?? ""), info: path ? `${path}: ${problem}` : problem };
}

function whatIsWrong(issue: z.core.$ZodIssue): string {
  const given = issue.input !== undefined;
  switch (issue.code) {
    case "invalid_type":
      if (!given) return "is required";
      return `expected ${expectedNames[issue.expected] ?? issue.expected}, got ${typeof issue.input === "number" && issue.expected === "int" ? issue.input : kindOf(issue.input)}`;
    case "invalid_value":
      return given ? `${issue.message} (got ${shown(issue.input)})` : "is required";
    case "invalid_union": {
      // A tagged union (MsgBody elements by MsgType) reports the whole element; show the tag.
      const value = issue.discriminator !== undefined && isObject(issue.input) ? issue.input[issue.discriminator] : issue.input;
      return value !== undefined ? `${issue.message} (got ${shown(value)})` : "is required";
    }
    default:
      return issue.message;
  }
}

/** Messages for issues whose schema says nothing of its own. */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_value") return `must be ${issue.values.length === 1 ? "" : "one of "}${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "invalid_union") {
    const options: unknown = issue.options;
    return Array.isArray(options) ? `must be one of ${options.map((v) => JSON.stringify(v)).join(", ")}` : "is not any of the accepted forms";
  }
  return undefined;
}

const expectedNames: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  array: "an array",
  object: "an object",
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "number") return Number.isFinite(value) ? "a number" : String(value);
  return typeof value === "string" ? "a string" : typeof value === "boolean" ? "a boolean" : typeof value;
}

/** A value as a short quote: primitives as JSON (cut at 40 characters), containers by kind. */
function shown(value: unknown): string {
  if (typeof value === "object" && value !== null) return kindOf(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
