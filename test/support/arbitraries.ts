/**
 * fast-check arbitraries for fuzzing the doors: values a schema accepts, the same with one
 * field wrong, and hostile values (wrong types, huge, deep, odd unicode, prototype keys,
 * numbers JSON cannot carry exactly). Valid values come from the server's own zod schemas,
 * so a new command or op is fuzzed without writing a generator for it.
 */
import fc from "fast-check";
import { z } from "zod";

// ---------------------------------------------------------------- JSON text with tokens JSON.stringify cannot write

/** A piece of JSON text inserted as is: 1e309, -0, 2**53+1, ten thousand brackets. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** An object with these own keys, `__proto__` included (an object literal would set the prototype instead). */
export function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** JSON text of a value that may hold RawJson pieces and own `__proto__` keys. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : toJsonText(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${toJsonText((value as Record<string, unknown>)[k])}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A short description of a generated value for counterexamples: long strings are abbreviated. */
export function preview(value: unknown, max = 300): string {
  const text = typeof value === "string" ? value : value instanceof Uint8Array ? `<${value.length} bytes>` : toJsonText(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

// ---------------------------------------------------------------- hostile values

/** Strings that have broken parsers, validators and storage before. */
export const oddStrings = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\ud83dy",
  "\ufeff",
  "\u202eevil",
  "e\u0301\u0301\u0301",
  "👍🏽",
  "👨‍👩‍👧‍👦",
  "\uffff",
  "\r\n",
  "null",
  "undefined",
  "NaN",
  "true",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "0x53724E00",
  "1e309",
  "-0",
  "９９",
  "'; DROP TABLE accounts; --",
  "%00",
  "../../etc",
  "a".repeat(33),
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...oddStrings) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 13_000, 70_000).map((n) => "y".repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(3_000, 20_000).map((n) => "😀".repeat(n)) },
);

/** Numbers as written in JSON, including those a JavaScript number cannot hold exactly. */
export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    new RawJson("1e309"),
    new RawJson("-1e309"),
    new RawJson("-0"),
    new RawJson("9007199254740993"),
    new RawJson("1e-400"),
    new RawJson("0.1e1"),
    new RawJson("123456789012345678901234567890"),
  ),
  fc.constantFrom(-1, 1.5, 0.1, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, -2147483649),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Nesting far past anything a schema expects. */
export const deepValue: fc.Arbitrary<RawJson> = fc
  .record({ depth: fc.constantFrom(20, 500, 5_000, 50_000), kind: fc.constantFrom("array", "object") })
  .map(({ depth, kind }) => new RawJson(kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth)));

/** A message body of merged-forward elements nested inside each other, a few levels to thousands. */
export const deepRelayBody: fc.Arbitrary<RawJson> = fc.constantFrom(3, 60, 450, 700, 5_000).map((depth) => {
  const open = '{"MsgType":"TIMRelayElem","MsgContent":{"Title":"t","MsgNum":1,"MsgList":[{"MsgBody":[';
  return new RawJson(`[${open.repeat(depth)}{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}${"]}]}}".repeat(depth)}]`);
});

/** `value` with its message body (REST MsgBody, protocol body) replaced by a deeply nested one. */
export function withDeepMessageBody(value: unknown): fc.Arbitrary<unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return fc.constant(value);
  const key = ["MsgBody", "body"].find((k) => k in value);
  return key ? deepRelayBody.map((deep) => objectOf(Object.entries(value).map(([k, v]): [string, unknown] => [k, k === key ? deep : v]))) : fc.constant(value);
}

/** Objects whose keys are the names JavaScript gives special meaning. */
export const prototypeObject: fc.Arbitrary<Record<string, unknown>> = fc
  .subarray(["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "__defineGetter__"], { minLength: 1 })
  .chain((keys) =>
    fc.tuple(...keys.map((k) => fc.constantFrom<unknown>({ polluted: true }, objectOf([["prototype", { polluted: true }]]), "x", 1, null, []).map((v) => [k, v] as [string, unknown]))),
  )
  .map(objectOf);

/** Any value of the wrong kind for a field: the type is wrong, the size is wrong, or the content is hostile. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, 1, [], {}, [null], [""], [{}], { "": "" }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: deepRelayBody },
  { weight: 2, arbitrary: prototypeObject },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(1_001, 5_000).map((n) => Array.from({ length: n }, (_, i) => `id${i}`)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A value of another JSON type than `value`, for "present, but of the wrong type". */
export function otherTypeThan(value: unknown): fc.Arbitrary<unknown> {
  const kinds: [string, fc.Arbitrary<unknown>][] = [
    ["string", fc.constantFrom("x", "", "123", "true")],
    ["number", fc.constantFrom(0, 1, 123, 1.5, -1)],
    ["boolean", fc.boolean()],
    ["array", fc.constantFrom<unknown>([], ["x"], [1])],
    ["object", fc.constantFrom<unknown>({}, { x: 1 })],
    ["null", fc.constant(null)],
  ];
  const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  return fc.oneof(...kinds.filter(([k]) => k !== kind).map(([, arb]) => arb));
}

/** Bodies that are not a JSON object at all. */
export const hostileBodyText: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.constantFrom(
    "",
    " \n",
    "{",
    "}",
    "null",
    "[]",
    '"text"',
    "123",
    "1e309",
    "{}{}",
    '{"a":1,}',
    "{'a':1}",
    "NaN",
    "\ufeff{}",
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '{"__proto__":{"isAdmin":true}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
  ),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.uint8Array({ maxLength: 40 }).map((b) => Uint8Array.from([0xff, 0xfe, ...b])),
  fc.constantFrom(1024 * 1024 + 1, 2 * 1024 * 1024).map((n) => `{"x":"${"z".repeat(n)}"}`),
  deepValue.map((raw) => raw.text),
);

// ---------------------------------------------------------------- values a zod schema accepts

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
}

export interface Hints {
  /** Strings for a field whose pattern is this one (e.g. the user-id pattern → existing users). */
  byPattern?: Record<string, fc.Arbitrary<string>>;
  /** Strings for fields with no pattern (tags, keys, names the server knows). */
  freeStrings?: fc.Arbitrary<string>;
}

/** Values `schema` accepts (bar its custom refinements), as a client would send them. */
export function validValue(schema: z.ZodType, hints: Hints = {}): fc.Arbitrary<unknown> {
  const root = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", cycles: "ref", reused: "inline" }) as JsonSchema;
  return fromJsonSchema(root, root, hints, 0);
}

/** Past this depth, recursive schemas get only their required parts and shortest arrays. */
const maxDepth = 4;

function fromJsonSchema(s: JsonSchema, root: JsonSchema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  const deep = depth >= maxDepth;
  if (s.$ref) {
    const target = s.$ref === "#" ? root : root.$defs?.[s.$ref.replace("#/$defs/", "")];
    if (!target) throw new Error(`no schema at ${s.$ref}`);
    return fc.constant(null).chain(() => fromJsonSchema(target, root, hints, depth + 1));
  }
  if ("const" in s) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const options = s.anyOf ?? s.oneOf;
  if (options) return deep ? fromJsonSchema(options[0]!, root, hints, depth + 1) : fc.oneof(...options.map((o) => fromJsonSchema(o, root, hints, depth + 1)));
  if (s.allOf) return fromJsonSchema(Object.assign({}, ...s.allOf) as JsonSchema, root, hints, depth);
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((t) => fromJsonSchema({ ...s, type: t }, root, hints, depth)));

  switch (s.type) {
    case "object": {
      const props = s.properties ?? {};
      const required = s.required ?? [];
      const keys = deep ? required : Object.keys(props);
      const shape = Object.fromEntries(keys.map((k) => [k, fromJsonSchema(props[k]!, root, hints, depth + 1)]));
      return fc.record(shape, { requiredKeys: required.filter((k) => k in shape) });
    }
    case "array": {
      const min = s.minItems ?? 0;
      const max = deep ? min : Math.min(s.maxItems ?? min + 3, min + 3);
      return fc.array(fromJsonSchema(s.items ?? {}, root, hints, depth + 1), { minLength: min, maxLength: max });
    }
    case "string": {
      if (s.pattern) {
        const hinted = hints.byPattern?.[s.pattern];
        const matching = fc.stringMatching(new RegExp(s.pattern));
        return hinted ? fc.oneof({ weight: 4, arbitrary: hinted }, { weight: 1, arbitrary: matching }) : matching;
      }
      const min = s.minLength ?? 0;
      const max = Math.min(s.maxLength ?? 40, Math.max(min, 40));
      const plain = fc.string({ minLength: min, maxLength: max, unit: "grapheme" });
      const free = hints.freeStrings?.filter((t) => t.length >= min && t.length <= max);
      return free ? fc.oneof(plain, free) : plain;
    }
    case "integer":
    case "number": {
      const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : Number.MIN_SAFE_INTEGER);
      const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : Number.MAX_SAFE_INTEGER);
      const small = fc.integer({ min: Math.max(lo, -1000), max: Math.min(hi, Math.max(Math.max(lo, -1000), 1000)) });
      if (s.type === "number") return fc.oneof(small, fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }));
      return fc.oneof({ weight: 3, arbitrary: small }, { weight: 1, arbitrary: fc.constantFrom(lo, hi) }, { weight: 1, arbitrary: fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.min(hi, 2 ** 31 - 1) }) });
    }
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------- one field wrong

export type Path = (string | number)[];

/** Every place in a JSON value a mutation can target: its fields and array elements, outermost first. */
export function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...prefix, i]), pathsOf(v, [...prefix, i], out)));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push([...prefix, k]), pathsOf(v, [...prefix, k], out);
  return out;
}

export function valueAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string | number, unknown> | undefined)?.[key], value);
}

/** A copy of `value` with the value at `path` replaced, or removed when `replacement` is `remove`. */
export function withAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === remove) copy.splice(key as number, 1);
    else copy[key as number] = withAt(copy[key as number], rest, replacement);
    return copy;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => !(rest.length === 0 && replacement === remove && k === key));
  return objectOf(entries.map(([k, v]) => [k, k === key ? withAt(v, rest, replacement) : v]));
}

export const remove = Symbol("remove");

export type Change = "remove" | "otherType" | "hostile" | "extraKey";

export interface NearValid {
  body: unknown;
  path: Path;
  change: Change;
}

/** A valid value with exactly one thing wrong: a field missing, of another type, hostile, or an extra prototype key. */
export function nearValid(valid: fc.Arbitrary<unknown>): fc.Arbitrary<NearValid> {
  return valid.chain((value) => {
    const paths = pathsOf(value);
    const target = paths.length > 0 ? fc.constantFrom(...paths) : fc.constant<Path>([]);
    return fc.tuple(target, fc.constantFrom<Change>("remove", "otherType", "hostile", "extraKey")).chain(([path, change]): fc.Arbitrary<NearValid> => {
      if (change === "remove" && path.length > 0) return fc.constant({ body: withAt(value, path, remove), path, change });
      if (change === "extraKey") {
        const parent = path.slice(0, -1);
        return prototypeObject.map((extra) => {
          const at = valueAt(value, parent);
          const merged = at !== null && typeof at === "object" && !Array.isArray(at) ? objectOf([...Object.entries(at), ...Object.entries(extra)]) : extra;
          return { body: withAt(value, parent, merged), path: parent, change };
        });
      }
      const replacement = change === "otherType" ? otherTypeThan(valueAt(value, path)) : hostileValue;
      return replacement.map((r) => ({ body: withAt(value, path, r), path, change: path.length === 0 ? "hostile" : change }));
    });
  });
}

/** `DeleteItem[2].UserID`, as the REST door names a field in ErrorInfo. */
export function pathName(path: Path): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${key}` : key), "");
}
