import fc from 'fast-check';
import { effectiveSchema, JsonSchema } from './openapi-model';

/**
 * Values the generators produce. Besides JSON they hold placeholders, so a case stays a pure,
 * printable, replayable description while the request it becomes uses live data:
 * - Ref: "the n-th entry of a pool" (a note id of tenant B, an invitation code of tenant A, ...),
 *   resolved when the request is sent, because the pools change as the run goes on;
 * - Splice: a string (a Ref's too) with a character put into it;
 * - Raw: JSON text inserted verbatim (numbers JSON.stringify cannot write, nesting too deep to
 *   build as objects), printed by its label.
 */
export type Pool =
  | 'note:A'
  | 'note:B'
  | 'user:A'
  | 'user:B'
  | 'tenant:A'
  | 'tenant:B'
  | 'email:A'
  | 'email:B'
  | 'email:operator'
  | 'email:sacrificial'
  | 'username:A'
  | 'tenantName:A'
  | 'tenantName:B'
  | 'inviteCode:A'
  | 'password:known'
  | 'refresh:user'
  | 'refresh:operator'
  | 'emailToken'
  | 'node';

export class Ref {
  constructor(
    readonly pool: Pool,
    readonly pick: number,
  ) {}

  [fc.toStringMethod](): string {
    return `<${this.pool}#${this.pick}>`;
  }
}

export class Raw {
  constructor(
    readonly text: string,
    readonly label: string,
  ) {}

  [fc.toStringMethod](): string {
    return `<raw ${this.label}>`;
  }
}

/** A string with something put into it: `base` (a Ref too) with `insert` at `at` (wrapping). */
export class Splice {
  constructor(
    readonly base: Value,
    readonly insert: string,
    readonly at: number,
  ) {}

  apply(base: string): string {
    const at = this.at % (base.length + 1);
    return `${base.slice(0, at)}${this.insert}${base.slice(at)}`;
  }

  [fc.toStringMethod](): string {
    return `<${fc.stringify(this.base)} with ${JSON.stringify(this.insert)} at ${this.at}>`;
  }
}

export interface ValueObject {
  [key: string]: Value;
}
export type Value = null | boolean | number | string | Ref | Raw | Splice | Value[] | ValueObject;

export type Resolver = (ref: Ref) => string | number;

/** JSON text of `value`; lone surrogates come out as \uXXXX escapes, as JSON.stringify writes them. */
export function encodeJson(value: Value, resolve: Resolver): string {
  if (value instanceof Ref) return JSON.stringify(resolve(value));
  if (value instanceof Raw) return value.text;
  if (value instanceof Splice) return JSON.stringify(value.apply(stringValue(value.base, resolve)));
  if (Array.isArray(value)) return `[${value.map((item) => encodeJson(item, resolve)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value).map(
      (key) => `${JSON.stringify(key)}:${encodeJson(value[key], resolve)}`,
    );
    return `{${members.join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

/** The value as a string for a path segment, query string or header. */
export function stringValue(value: Value, resolve: Resolver): string {
  if (value instanceof Ref) return String(resolve(value));
  if (value instanceof Raw) return value.text;
  if (value instanceof Splice) return value.apply(stringValue(value.base, resolve));
  if (typeof value === 'string') return value;
  return encodeJson(value, resolve);
}

const ref = (pool: Pool): fc.Arbitrary<Value> => fc.nat(1000).map((pick) => new Ref(pool, pick));

// ---------------------------------------------------------------------------------------------
// Edge cases

/** Deeply nested JSON that still fits under the body limit: parsers and validators recurse. */
export const deepNesting: fc.Arbitrary<Value> = fc
  .tuple(fc.constantFrom(64, 1_000, 10_000, 30_000), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`, `[ nested ${depth} deep`)
      : new Raw(
          `${'{"a":'.repeat(Math.min(depth, 10_000))}1${'}'.repeat(Math.min(depth, 10_000))}`,
          `{ nested ${Math.min(depth, 10_000)} deep`,
        ),
  );

/** Strings that broke or bent services before: encodings, normalisation, parsers, databases. */
export const EDGE_STRINGS: readonly string[] = [
  '',
  ' ',
  '   \t\n',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'lone \udfff end',
  '\udc00\ud800',
  '\uffff\ufffe',
  '\ufeffbom',
  'zero\u200bwidth',
  '\u202eevil',
  'e\u0301\u0301\u0301',
  '𝒜𝓁𝒾𝒸ℯ',
  '👩‍👩‍👧‍👦',
  '\u2028\u2029',
  'Ａｄｍｉｎ',
  'İı ß ǅ',
  '\u0085\u00a0',
  '\u007f\u0001\u001f',
  "' OR '1'='1",
  '"; DROP TABLE notes; --',
  '\\',
  '%00',
  '%s%n%x',
  '${7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  'true',
  '0',
  '-1',
  '1e400',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551616',
  ' 1',
  '1 ',
  '0x1f',
  '١٢٣',
  '1.0',
  'a@b',
  'A@EXAMPLE.COM',
  ' user@example.com ',
  'user@example.com\u0000',
  'user@ex\u0000ample.com',
  'пример@пример.рф',
  'a'.repeat(255),
  '🙂'.repeat(100),
];

/** A single UTF-16 code unit, lone surrogates and NUL included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'lone \udfff end') },
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: anyCodeUnit, maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', 'é', '😀', '\u0000', ' '), fc.constantFrom(1_000, 66_000))
      .map(([char, length]) => char.repeat(length)),
  },
);

const NUMBERS = [
  -1,
  0,
  -0.5,
  1.5,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e21,
  1e308,
  -1e308,
  5e-324,
];

const rawNumbers: fc.Arbitrary<Value> = fc
  .constantFrom('1e400', '-1e400', '-0', '1.0', '1E2', '100000000000000000000000000000', '0.1e1')
  .map((text) => new Raw(text, text));

/** Any JSON type, a few levels deep, for "wrong type here". */
export const anyJson: fc.Arbitrary<Value> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Value>(null, true, false, 0, 1, '', [], {}) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Value> },
  { weight: 1, arbitrary: deepNesting },
);

/** Put into otherwise valid strings: what databases, normalisers and parsers trip over. */
const INJECTED = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\u202e',
  '\ufeff',
  '\u200b',
  '\u0301',
  '\u2028',
  '\uffff',
  '\n',
  ' ',
  "'",
  '"',
  '\\',
  '%00',
  '\u00a0',
  '\ufb00',
  '\uff21',
  '\u0130',
  '😀',
];

/** What took services down before gets more than its share. */
const CRITICAL = ['\u0000', '\ud800', '\udfff'];

function spliced(base: fc.Arbitrary<Value>): fc.Arbitrary<Value> {
  const insert = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...CRITICAL) },
    { weight: 3, arbitrary: fc.constantFrom(...INJECTED) },
  );
  return fc
    .tuple(base, insert, fc.nat(1_000))
    .map(([value, insert, at]) => new Splice(value, insert, at));
}

function wrongTypeFor(schema: JsonSchema): fc.Arbitrary<Value> {
  const type = schema.enum ? 'string' : schema.type;
  const candidates: Value[] = [null, true, 0, 7, -1, 1.5, '', 'text', [], ['a'], {}, { a: 1 }];
  const others = candidates.filter((candidate) => {
    if (candidate === null) return true;
    if (Array.isArray(candidate)) return type !== 'array';
    if (typeof candidate === 'object') return type !== 'object';
    if (typeof candidate === 'number') return type !== 'number' && type !== 'integer';
    return typeof candidate !== type;
  });
  const options: Array<fc.WeightedArbitrary<Value>> = [
    { weight: 4, arbitrary: fc.constantFrom(...others) },
    { weight: 1, arbitrary: deepNesting },
  ];
  if (type !== 'string') options.push({ weight: 2, arbitrary: hostileString });
  return fc.oneof(...options);
}

// ---------------------------------------------------------------------------------------------
// Hints: what the documents do not say about a field but its name does

const WORDS = [
  'amber',
  'basalt',
  'cobalt',
  'dune',
  'ember',
  'fjord',
  'glacier',
  'harbor',
  'indigo',
  'juniper',
  'kestrel',
  'lagoon',
  'meadow',
  'nebula',
  'obsidian',
  'prairie',
  'quartz',
  'raven',
  'sierra',
  'tundra',
];
const word = fc.constantFrom(...WORDS);
const alnum = (min: number, max: number) =>
  fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
    minLength: min,
    maxLength: max,
  });

/** Passes the password policy: long, varied, not a breached favourite, not the email. */
export const strongPassword: fc.Arbitrary<Value> = fc
  .tuple(word, word, word, fc.integer({ min: 10, max: 99 }))
  .map(([a, b, c, n]) => `${a}-${b}-${c}-${n}`);

/** Unique enough that a registration with it is new. */
export const freshEmail: fc.Arbitrary<Value> = alnum(8, 12).map(
  (local) => `fz-${local}@example.com`,
);
const freshUsername: fc.Arbitrary<Value> = alnum(6, 20).map((name) => `fz_${name}`);
const freshTenantName: fc.Arbitrary<Value> = fc
  .tuple(word, alnum(6, 10))
  .map(([a, b]) => `Fuzz ${a} ${b}`);
const bigintId: fc.Arbitrary<Value> = fc
  .bigInt({ min: 1n, max: 9223372036854775807n })
  .map((id) => id.toString());
const base64url = (min: number, max: number) =>
  fc.string({
    unit: fc.constantFrom(
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''),
    ),
    minLength: min,
    maxLength: max,
  });

/** Which pool a path id or cursor draws from, by the resource it names. */
export type Resource = 'note' | 'user' | 'tenant' | undefined;

export function resourceOf(path: string): Resource {
  if (/\/notes(\/|$)/.test(path)) return 'note';
  if (/\/users(\/|$)/.test(path)) return 'user';
  if (/\/tenants\/\{/.test(path)) return 'tenant';
  return undefined;
}

function idHint(resource: Resource): fc.Arbitrary<Value> {
  const own: Pool[] =
    resource === 'note'
      ? ['note:A', 'note:B']
      : resource === 'user'
        ? ['user:A', 'user:B']
        : resource === 'tenant'
          ? ['tenant:A', 'tenant:B']
          : ['note:A', 'note:B', 'user:A', 'user:B', 'tenant:A', 'tenant:B'];
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...own).chain(ref) },
    { weight: 2, arbitrary: bigintId },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 5_000 }).map(String) },
  );
}

/**
 * Valid values for fields whose rules live in validators, not in the documents (an email's
 * shape, a username's alphabet, a password's strength), and real values from the seeded state.
 */
function hint(name: string | undefined, resource: Resource): fc.Arbitrary<Value> | undefined {
  switch (name) {
    case 'id':
    case 'cursor':
      return idHint(resource);
    case 'email':
      return fc.oneof(
        { weight: 3, arbitrary: freshEmail },
        { weight: 1, arbitrary: ref('email:A') },
        { weight: 1, arbitrary: ref('email:B') },
        { weight: 1, arbitrary: ref('email:operator') },
        { weight: 2, arbitrary: ref('email:sacrificial') },
      );
    case 'password':
    case 'currentPassword':
      return fc.oneof(
        { weight: 2, arbitrary: ref('password:known') },
        { weight: 1, arbitrary: strongPassword },
      );
    case 'newPassword':
      return strongPassword;
    case 'username':
      return fc.oneof(
        { weight: 3, arbitrary: freshUsername },
        // B's usernames stay secret (see VictimEvidence): usernames are per tenant anyway.
        { weight: 1, arbitrary: ref('username:A') },
      );
    case 'tenantName':
      return fc.oneof(
        { weight: 3, arbitrary: freshTenantName },
        { weight: 2, arbitrary: ref('tenantName:A') },
        { weight: 1, arbitrary: ref('tenantName:B') },
      );
    case 'tenant':
      return fc.oneof(
        ref('tenant:A'),
        ref('tenant:B'),
        ref('tenantName:A'),
        ref('tenantName:B'),
        freshTenantName,
      );
    case 'inviteCode':
      return fc.oneof(
        { weight: 3, arbitrary: ref('inviteCode:A') },
        { weight: 1, arbitrary: base64url(10, 60) },
      );
    case 'token':
      return fc.oneof(
        { weight: 2, arbitrary: ref('emailToken') },
        { weight: 1, arbitrary: base64url(20, 80) },
      );
    case 'refreshToken':
      return fc.oneof(
        { weight: 2, arbitrary: ref('refresh:user') },
        { weight: 2, arbitrary: ref('refresh:operator') },
        { weight: 1, arbitrary: base64url(20, 200) },
      );
    case 'table':
      return fc.constantFrom('notes', 'users', 'invitations', 'tenants', 'sessions', 'accounts');
    case 'host':
      // As AddNodeDto's pattern allows: a DNS name, an IPv4 or an IPv6 address without brackets.
      return fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6());
    case 'node':
    case 'targetNodeId':
      return fc.oneof(ref('node'), fc.integer({ min: 1, max: 50 }));
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Valid values from a schema

/** Characters a valid string is made of: mostly ASCII, some of the BMP, never NUL or surrogates. */
const safeChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0xa0, max: 0xd7ff })
      .map((c) => String.fromCharCode(c))
      .filter((c) => /\P{C}/u.test(c)),
  },
);

function validString(schema: JsonSchema): fc.Arbitrary<Value> {
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((date) => date.toISOString());
  }
  if (schema.format === 'email') return freshEmail;
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Math.max(min, 40);
  const typical = fc.string({ unit: safeChar, minLength: min, maxLength: Math.min(max, min + 40) });
  // The bounds themselves, built by repetition: generating 20,000 characters one by one is slow.
  const bounds = fc
    .tuple(fc.constantFrom(Math.max(min, 1), max), fc.constantFrom('x', 'é', ' ', '中'))
    .map(([length, char]) => char.repeat(length));
  const anyString = fc.oneof({ weight: 9, arbitrary: typical }, { weight: 1, arbitrary: bounds });
  if (schema.pattern === undefined) return anyString;
  // A documented pattern is part of validity; fields whose pattern random text rarely meets get
  // a hint above (a filter that keeps rejecting makes fast-check give up and say so).
  const pattern = new RegExp(schema.pattern, 'u');
  return anyString.filter((text) => pattern.test(text));
}

function validNumber(schema: JsonSchema): fc.Arbitrary<Value> {
  // Documented as "number", validated as integers: Nest documents a TS number as number.
  const min = schema.minimum ?? -1_000_000;
  const max = schema.maximum ?? 1_000_000;
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
  );
}

export interface Generators {
  valid(schema: JsonSchema, name?: string): fc.Arbitrary<Value>;
  mutated(schema: JsonSchema, name?: string): fc.Arbitrary<Value>;
}

/** Value generators for the schemas of one operation (`resource` picks the id pools). */
export function generators(resource: Resource): Generators {
  const valid = (documented: JsonSchema, name?: string): fc.Arbitrary<Value> => {
    const schema = effectiveSchema(documented);
    const hinted = hint(name, resource);
    const base = hinted ?? validWithoutHint(schema);
    return schema.nullable
      ? fc.oneof({ weight: 6, arbitrary: base }, { weight: 1, arbitrary: fc.constant(null) })
      : base;
  };

  const validWithoutHint = (schema: JsonSchema): fc.Arbitrary<Value> => {
    if (schema.enum && schema.enum.length > 0) {
      return fc.constantFrom(...(schema.enum as Value[]));
    }
    switch (schema.type) {
      case 'string':
        return validString(schema);
      case 'number':
      case 'integer':
        return validNumber(schema);
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(valid(schema.items ?? {}), { maxLength: 3 });
      case 'object':
      default:
        return validObject(schema);
    }
  };

  const validObject = (schema: JsonSchema): fc.Arbitrary<Value> => {
    const properties = Object.entries(schema.properties ?? {});
    if (properties.length === 0) {
      return schema.type === 'object' ? fc.constant({}) : anyJson;
    }
    const required = schema.required ?? [];
    const record = fc.record(
      Object.fromEntries(properties.map(([key, child]) => [key, valid(child, key)])),
      { requiredKeys: required },
    ) as fc.Arbitrary<ValueObject>;
    // All-optional bodies (a PATCH) must still say something: `{}` changes nothing.
    const said =
      required.length > 0 ? record : record.filter((value) => Object.keys(value).length > 0);
    if (!schema.properties?.email || !schema.properties.password) return said;
    // A login that can succeed: an email with its password (A's members and disposables share
    // one, the operator has another), which independent picks would rarely match.
    const pair = fc.oneof(
      fc
        .tuple(fc.constantFrom<Pool>('email:A', 'email:sacrificial'), fc.nat(1000))
        .map(([pool, pick]) => ({
          email: new Ref(pool, pick),
          password: new Ref('password:known', 0),
        })),
      fc.constant({ email: new Ref('email:operator', 0), password: new Ref('password:known', 1) }),
    );
    return fc.oneof(
      said,
      fc.tuple(said, pair).map(([value, credentials]) => ({ ...value, ...credentials })),
    );
  };

  const mutated = (documented: JsonSchema, name?: string): fc.Arbitrary<Value> => {
    const schema = effectiveSchema(documented);
    const wrong = wrongTypeFor(schema);
    if (schema.type === 'object' || schema.properties) return mutatedObject(schema);
    if (schema.type === 'array') {
      return fc.oneof(
        wrong,
        fc
          .tuple(fc.array(valid(schema.items ?? {}), { maxLength: 2 }), mutated(schema.items ?? {}))
          .map(([items, bad]) => [...items, bad]),
        fc.constant(Array.from({ length: 5_000 }, () => 1)),
      );
    }
    if (schema.enum) {
      const strings = schema.enum.filter((item): item is string => typeof item === 'string');
      return fc.oneof(
        wrong,
        hostileString,
        spliced(valid(schema, name)),
        fc
          .constantFrom(...(strings.length > 0 ? strings : ['x']))
          .chain((item) =>
            fc.constantFrom(item.toUpperCase(), ` ${item}`, `${item}\u0000`, `${item}s`, 'owner'),
          ),
      );
    }
    switch (schema.type) {
      case 'string':
        return fc.oneof(
          { weight: 2, arbitrary: wrong },
          { weight: 3, arbitrary: hostileString },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              'x'.repeat((schema.maxLength ?? 1_000) + 1),
              'x'.repeat(Math.max(0, (schema.minLength ?? 1) - 1)),
            ),
          },
          { weight: 5, arbitrary: spliced(valid(schema, name)) },
        );
      case 'number':
      case 'integer':
        return fc.oneof(
          wrong,
          fc.constantFrom<Value>(
            ...NUMBERS,
            (schema.minimum ?? 0) - 1,
            (schema.maximum ?? 100) + 1,
            '5',
            '',
          ),
          rawNumbers,
        );
      case 'boolean':
        return fc.oneof(wrong, fc.constantFrom<Value>('true', 'false', 1, 0, 'yes', ''));
      default:
        return fc.oneof(wrong, hostileString, anyJson);
    }
  };

  const mutatedObject = (schema: JsonSchema): fc.Arbitrary<Value> => {
    const properties = Object.entries(schema.properties ?? {});
    const keys = properties.map(([key]) => key);
    const required = schema.required ?? [];
    const base = validObject(schema).map((value) =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as ValueObject)
        : {},
    );
    const extraKey = fc.oneof(
      fc.constantFrom(
        'id',
        'tenantId',
        'tenant_id',
        'userId',
        'role',
        'isAdmin',
        '__proto__',
        'constructor',
        'prototype',
        '$where',
        '',
        ' ',
        'Content',
        'title ',
        'a'.repeat(2_000),
      ),
      fc.string({ maxLength: 12 }),
    );
    const options: Array<fc.WeightedArbitrary<Value>> = [
      { weight: 1, arbitrary: wrongTypeFor(schema) },
      { weight: 1, arbitrary: fc.constant({}) },
      {
        weight: 1,
        arbitrary: fc.tuple(base, extraKey, anyJson).map(([value, key, extra]) => {
          const copy: ValueObject = { ...value };
          Object.defineProperty(copy, key, { value: extra, enumerable: true, writable: true });
          return copy;
        }),
      },
    ];
    if (keys.length > 0) {
      // The most productive mutation: everything valid but one field.
      const oneBadProperty = fc
        .constantFrom(...properties)
        .chain(([key, child]) =>
          fc
            .tuple(base, mutated(child, key))
            .map(([value, bad]): Value => ({ ...value, [key]: bad })),
        );
      // Explicit nulls: optional is not nullable, and a null that passes validation reaches SQL.
      const oneNull = fc
        .tuple(base, fc.constantFrom(...keys))
        .map(([value, key]): Value => ({ ...value, [key]: null }));
      options.push({ weight: 6, arbitrary: oneBadProperty }, { weight: 3, arbitrary: oneNull });
    }
    if (required.length > 0) {
      const missing = fc.tuple(base, fc.constantFrom(...required)).map(([value, key]) => {
        const copy = { ...value };
        delete copy[key];
        return copy;
      });
      options.push({ weight: 1, arbitrary: missing });
    }
    return fc.oneof(...options);
  };

  return { valid, mutated };
}
