import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Operation, Parameter, pathSegments } from './openapi-model';
import { GarbageToken, garbageToken } from './tokens';
import {
  anyJson,
  deepNesting,
  encodeJson,
  generators,
  Raw,
  Ref,
  Resolver,
  resourceOf,
  stringValue,
  Value,
} from './values';

/**
 * Routes (method and path, whichever operation's case sends them) whose success ends the
 * caller's membership, sessions or password, or changes another member: a tenant user acting
 * on them is a disposable member of tenant A, and a user id of A in them names the actor itself
 * or another disposable member (never A's long-lived principals). A new route of this kind that
 * is not listed here still cannot wreck a run: World.heal notices a broken principal and
 * re-seeds tenant A.
 */
export const SACRIFICIAL_OPERATIONS: readonly string[] = [
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/password',
  'POST /api/v1/tenants/current/leave',
  'PATCH /api/v1/users/{id}',
  'DELETE /api/v1/users/{id}',
];

/**
 * Operator routes that change the cluster for every spec running alongside (splitting a tenant's
 * shards, a background rebalance, adding, draining or removing a node). Unless FUZZ_CLUSTER_WRITES=1 (set by `npm run fuzz`, which
 * runs the fuzz spec alone) or on plain PostgreSQL (where they refuse), an operator reaches
 * them only with an expired token or a tenant id that does not exist.
 */
export const CLUSTER_WRITE_OPERATIONS: readonly string[] = [
  'POST /api/v1/admin/citus/rebalance',
  'POST /api/v1/admin/citus/tenants/{id}/isolate',
  'POST /api/v1/admin/citus/nodes',
  'POST /api/v1/admin/citus/nodes/{id}/drain',
  'DELETE /api/v1/admin/citus/nodes/{id}',
];

export type Actor =
  | { kind: 'none' }
  | { kind: 'user'; role: 'owner' | 'admin' | 'member' }
  | { kind: 'operator' }
  | { kind: 'zombie'; pick: number }
  | { kind: 'garbage'; token: GarbageToken };

/** How the Authorization header carries the token. */
export type AuthStyle =
  | 'Bearer'
  | 'bearer'
  | 'double-space'
  | 'no-scheme'
  | 'Basic'
  | 'scheme-only'
  | 'trailing-junk'
  | 'twice';

export type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: Value }
  | { kind: 'text'; text: Raw }
  | { kind: 'utf16'; value: Value };

export type PathStyle = 'plain' | 'trailing-slash' | 'double-slash' | 'upper-case' | 'dot-segment';

export interface FuzzCase {
  operation: string;
  method: string;
  actor: Actor;
  auth: AuthStyle;
  path: { params: Record<string, Value>; raw: boolean; style: PathStyle };
  query: Array<[string, Value]> | Raw;
  body: Body;
  contentType: string | null;
  contentEncoding: 'none' | 'gzip' | 'gzip-corrupt' | 'deflate' | 'br';
  headers: Array<[string, Value]>;
  /** Which parts were generated invalid on purpose (for the statistics). */
  mutated: string[];
}

type Transport = Pick<FuzzCase, 'contentType' | 'contentEncoding' | 'headers' | 'auth'>;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

const RAW_BODIES: readonly Raw[] = [
  ['', 'empty'],
  ['{', 'unterminated {'],
  ['{"a":}', 'missing value'],
  ["{'a':1}", 'single quotes'],
  ['[1,]', 'trailing comma'],
  ['nul', 'truncated null'],
  ['{}x', 'trailing garbage'],
  ['\ufeff{}', 'byte order mark'],
  ['{"content":"a","content":"b"}', 'duplicate key'],
  ['{"__proto__":{"isAdmin":true}}', '__proto__ key'],
  ['{"constructor":{"prototype":{"isAdmin":true}}}', 'constructor.prototype key'],
  ['null', 'null'],
  ['"just a string"', 'string'],
  ['123', 'number'],
  ['[]', 'array'],
  ['true', 'boolean'],
  ['{"content":"\\ud800"}', 'escaped lone surrogate'],
  ['{"content":"a\\u0000b"}', 'escaped NUL'],
  ['{"content":"x"}\u0000', 'NUL after the JSON'],
  ['   ', 'whitespace'],
  ['{"a":1e400}', 'number overflow'],
  [`{"content":"${'x'.repeat(70_000)}"}`, 'over the body limit'],
].map(([text, label]) => new Raw(text, label));

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'application/json;;',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----fuzz',
  'application/vnd.api+json',
  'application/json-patch+json',
  'application/jsonx',
  '*/*',
  '',
];

const ODD_HEADERS: fc.Arbitrary<[string, Value]> = fc.oneof(
  fc.constantFrom<[string, Value]>(
    ['accept', 'text/html'],
    ['accept', 'application/xml;q=1, */*;q=0'],
    ['accept-encoding', 'gzip, br, zstd'],
    ['accept-language', 'xx-YY'],
    ['x-forwarded-for', '203.0.113.7, 10.0.0.1'],
    ['x-forwarded-host', 'evil.example'],
    ['forwarded', 'for=203.0.113.7;proto=https'],
    ['origin', 'https://evil.example'],
    ['cookie', 'session=abc; tenant=1'],
    ['x-http-method-override', 'DELETE'],
    ['range', 'bytes=0-1'],
    ['if-none-match', '*'],
    ['x-odd', 'caf\u00e9 \u00ff'],
    ['connection', 'close'],
    ['transfer-encoding', 'chunked'],
  ),
  fc
    .oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: 70 }),
      fc.constant('a'.repeat(8_000)),
      fc.constantFrom('../../x', '', ' '),
    )
    .map((id): [string, Value] => ['x-request-id', id]),
  // The tenant comes from the token only: a header naming another tenant must change nothing.
  fc
    .tuple(
      fc.constantFrom('x-tenant-id', 'x-tenant', 'tenant-id'),
      fc.constantFrom(new Ref('tenant:B', 0), new Ref('tenant:A', 0)),
    )
    .map(([name, value]): [string, Value] => [name, value]),
);

function actorArb(operation: Operation): fc.Arbitrary<Actor> {
  const none = fc.constant<Actor>({ kind: 'none' });
  const user = (role: 'owner' | 'admin' | 'member') => fc.constant<Actor>({ kind: 'user', role });
  const operator = fc.constant<Actor>({ kind: 'operator' });
  const zombie = fc.nat(100).map((pick): Actor => ({ kind: 'zombie', pick }));
  const garbage = garbageToken.map((token): Actor => ({ kind: 'garbage', token }));
  const weights: Record<Operation['security'], number[]> = {
    // none, owner, admin, member, operator, zombie, garbage
    bearer: [5, 20, 15, 15, 5, 3, 8],
    operator: [5, 4, 2, 4, 60, 2, 10],
    public: [40, 6, 4, 6, 5, 2, 8],
  };
  const [w0, w1, w2, w3, w4, w5, w6] = weights[operation.security];
  return fc.oneof(
    { weight: w0, arbitrary: none },
    { weight: w1, arbitrary: user('owner') },
    { weight: w2, arbitrary: user('admin') },
    { weight: w3, arbitrary: user('member') },
    { weight: w4, arbitrary: operator },
    { weight: w5, arbitrary: zombie },
    { weight: w6, arbitrary: garbage },
  );
}

/** Odd path values: signs, spaces, encodings, lengths, traversal, other scripts. */
const oddPathValue: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom<Value>(
    '0',
    '-1',
    '01',
    '1.0',
    '1e3',
    ' 1',
    '+1',
    '0x10',
    '9223372036854775807',
    '9223372036854775808',
    '99999999999999999999999999',
    '١٢٣',
    'null',
    'me',
    'current',
    '..',
    '.',
    '%',
    '%ZZ',
    '%00',
    'a/b',
    '1;drop',
    '\ud800',
    '\u0000',
    'é',
    '1'.repeat(3_000),
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

const oddQuery: fc.Arbitrary<Raw> = fc.constantFrom(
  ...[
    ['%', 'bare %'],
    ['a=%ZZ', 'bad escape'],
    ['limit=1&limit=2', 'repeated limit'],
    ['limit[]=1', 'limit[]'],
    ['limit[a]=1', 'limit[a]'],
    ['__proto__[x]=1', '__proto__[x]'],
    ['constructor[prototype][x]=1', 'constructor[prototype]'],
    ['cursor=%00', 'NUL cursor'],
    ['cursor=%ED%A0%80', 'surrogate bytes'],
    ['=1', 'empty name'],
    ['&&&', 'ampersands'],
    ['limit', 'name only'],
    ['limit=%20', 'space'],
    ['limit=1e2', 'exponent'],
    [`${'a=1&'.repeat(2_000)}b=2`, '2,000 parameters'],
    [`cursor=${'9'.repeat(5_000)}`, 'long cursor'],
  ].map(([text, label]) => new Raw(text, label)),
);

function queryArb(
  operation: Operation,
  valid: boolean,
  values: ReturnType<typeof generators>,
): fc.Arbitrary<Array<[string, Value]> | Raw> {
  const query = operation.parameters.filter((parameter) => parameter.in === 'query');
  const pair = (parameter: Parameter, bad: boolean) =>
    (bad ? values.mutated : values.valid)(parameter.schema, parameter.name).map(
      (value): [string, Value] => [parameter.name, value],
    );
  const validPairs = fc
    .tuple(
      ...query.map((parameter) =>
        parameter.required
          ? pair(parameter, false).map((p) => [p])
          : fc.option(pair(parameter, false), { nil: undefined }).map((p) => (p ? [p] : [])),
      ),
    )
    .map((parts) => parts.flat());
  if (valid) return query.length === 0 ? fc.constant([]) : validPairs;
  const extra = fc
    .tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Value>)
    .map(([name, value]): [string, Value] => [name, value]);
  const options: Array<fc.Arbitrary<Array<[string, Value]> | Raw>> = [
    oddQuery,
    fc.tuple(validPairs, extra).map(([pairs, more]) => [...pairs, more]),
  ];
  if (query.length > 0) {
    options.push(
      fc
        .tuple(
          validPairs,
          fc.constantFrom(...query).chain((parameter) => pair(parameter, true)),
        )
        .map(([pairs, bad]) => [...pairs.filter(([name]) => name !== bad[0]), bad]),
    );
    options.push(options[options.length - 1]);
  }
  return fc.oneof(...options);
}

function bodyArb(
  operation: Operation,
  valid: boolean,
  values: ReturnType<typeof generators>,
): fc.Arbitrary<Body> {
  const json = (value: fc.Arbitrary<Value>) => value.map((v): Body => ({ kind: 'json', value: v }));
  if (!operation.body) {
    if (valid) return fc.constant<Body>({ kind: 'none' });
    return fc.oneof(
      json(anyJson),
      fc.constantFrom(...RAW_BODIES).map((text): Body => ({ kind: 'text', text })),
    );
  }
  const schema = operation.body.schema;
  if (valid) return json(values.valid(schema));
  return fc.oneof(
    { weight: 8, arbitrary: json(values.mutated(schema)) },
    { weight: 1, arbitrary: json(deepNesting) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...RAW_BODIES).map((text): Body => ({ kind: 'text', text })),
    },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 1, arbitrary: values.valid(schema).map((value): Body => ({ kind: 'utf16', value })) },
  );
}

/**
 * Requests for one operation. Each part (path, query, body, transport, method) is valid most of
 * the time and mutated otherwise, independently, so about a third of the cases are entirely
 * valid and reach the service's deepest paths, and a mutation usually arrives alone, where it
 * is the only thing the request does wrong.
 */
export function caseArb(
  operation: Operation,
  options: { validOnly?: boolean } = {},
): fc.Arbitrary<FuzzCase> {
  const values = generators(resourceOf(operation.path));
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === 'path');
  const validParams = fc.record(
    Object.fromEntries(
      pathParameters.map((parameter) => [
        parameter.name,
        values.valid(parameter.schema, parameter.name),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, Value>>;
  /** Mutated one time in three (`half`), six (`often`), sixteen (`rare`) or never. */
  const part = <T>(
    good: fc.Arbitrary<T>,
    bad: fc.Arbitrary<T>,
    how: 'half' | 'often' | 'rare' | 'never' = 'often',
  ) =>
    options.validOnly || how === 'never'
      ? good.map((value) => ({ value, bad: false }))
      : fc.oneof(
          {
            weight: how === 'half' ? 2 : how === 'often' ? 5 : 15,
            arbitrary: good.map((value) => ({ value, bad: false })),
          },
          { weight: 1, arbitrary: bad.map((value) => ({ value, bad: true })) },
        );
  const badParams =
    pathParameters.length === 0
      ? validParams
      : fc
          .tuple(validParams, fc.constantFrom(...pathParameters), oddPathValue)
          .map(([params, parameter, odd]) => ({ ...params, [parameter.name]: odd }));
  const path = fc.tuple(
    part(validParams, badParams, pathParameters.length === 0 ? 'never' : 'often'),
    part(
      fc.constant<PathStyle>('plain'),
      fc.constantFrom<PathStyle>('trailing-slash', 'double-slash', 'upper-case', 'dot-segment'),
      'rare',
    ),
    options.validOnly ? fc.constant(false) : fc.boolean(),
  );
  const transport = part(
    fc.constant<Transport>({
      contentType: 'application/json',
      contentEncoding: 'none',
      headers: [],
      auth: 'Bearer',
    }),
    fc.record<Transport>({
      contentType: fc.oneof(
        fc.constant<string | null>('application/json'),
        fc.constant<string | null>(null),
        fc.constantFrom<string | null>(...CONTENT_TYPES),
      ),
      contentEncoding: fc.constantFrom<FuzzCase['contentEncoding']>(
        'none',
        'gzip',
        'gzip-corrupt',
        'deflate',
        'br',
      ),
      headers: fc.array(ODD_HEADERS, { maxLength: 3 }),
      auth: fc.constantFrom<AuthStyle>(
        'Bearer',
        'bearer',
        'double-space',
        'no-scheme',
        'Basic',
        'scheme-only',
        'trailing-junk',
        'twice',
      ),
    }),
  );
  const method = part(
    fc.constant(operation.method),
    fc.constantFrom(...METHODS.filter((m) => m !== operation.method)),
    'rare',
  );
  return fc
    .record({
      actor: options.validOnly ? fc.constant<Actor>(defaultActor(operation)) : actorArb(operation),
      path,
      query: part(queryArb(operation, true, values), queryArb(operation, false, values)),
      // A body is where most of the input is: it gets mutated twice as often as the rest.
      body: part(
        bodyArb(operation, true, values),
        bodyArb(operation, false, values),
        operation.body ? 'half' : 'often',
      ),
      transport,
      method,
    })
    .map(
      ({ actor, path: [params, style, raw], query, body, transport: t, method: m }): FuzzCase => {
        const mutated = Object.entries({ params, style, query, body, transport: t, method: m })
          .filter(([, part]) => part.bad)
          .map(([name]) => name);
        return {
          operation: operation.key,
          method: m.value,
          actor,
          auth: t.value.auth,
          path: { params: params.value, raw, style: style.value },
          query: query.value,
          body: body.value,
          contentType: body.value.kind === 'none' && !t.bad ? null : t.value.contentType,
          contentEncoding: t.value.contentEncoding,
          headers: t.value.headers,
          mutated,
        };
      },
    );
}

/** Who may call an operation: the actor of the valid-only cases. */
export function defaultActor(operation: Operation): Actor {
  if (operation.security === 'operator') return { kind: 'operator' };
  if (operation.security === 'bearer') return { kind: 'user', role: 'owner' };
  return { kind: 'none' };
}

/**
 * How much of the run an operation gets: one share, plus one per parameter and body property.
 * Operations without input (the cluster overviews, slow on Citus) need few cases to be covered;
 * those with many inputs have more to get wrong.
 */
export function operationWeight(operation: Operation): number {
  return (
    1 + operation.parameters.length + Object.keys(operation.body?.schema.properties ?? {}).length
  );
}

/** Cases for every operation, in proportion to its weight. */
export function anyCaseArb(operations: Operation[]): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    ...operations.map((operation) => ({
      weight: operationWeight(operation),
      arbitrary: caseArb(operation),
    })),
  );
}

// ---------------------------------------------------------------------------------------------
// From a case to bytes on the wire

/** Percent-encodes UTF-8; a lone surrogate becomes the bytes of its code point (invalid UTF-8). */
export function percentEncode(value: string): string {
  let out = '';
  for (const char of value) {
    if (/^[A-Za-z0-9\-._~]$/.test(char)) {
      out += char;
      continue;
    }
    const code = char.codePointAt(0) ?? 0;
    const bytes =
      code >= 0xd800 && code <= 0xdfff
        ? [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        : [...Buffer.from(char, 'utf8')];
    out += bytes.map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

/** Sent as is where Node allows it (\x21-\xff), percent-encoded where it does not. */
function rawSegment(value: string): string {
  return [...value]
    .map((char) => (/^[\x21-\xff]$/.test(char) ? char : percentEncode(char)))
    .join('');
}

/** Header values are Latin-1 on the wire: anything else goes as its UTF-8 bytes, read as Latin-1. */
function headerValue(value: string): string {
  const bytes = Buffer.from(value, 'utf8').toString('latin1');
  return bytes.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

export interface Materialized {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Everything the request said, decoded: a victim marker in it is not a leak when echoed. */
  said: string;
}

export function materialize(
  fuzzCase: FuzzCase,
  operation: Operation,
  resolve: Resolver,
  token: string | undefined,
): Materialized {
  const said: string[] = [];
  const segments = pathSegments(operation.path).map((segment) => {
    if (typeof segment === 'string') return segment;
    const value = stringValue(fuzzCase.path.params[segment.param] ?? '', resolve);
    said.push(value);
    return fuzzCase.path.raw ? rawSegment(value) : percentEncode(value);
  });
  let path = `/${segments.join('/')}`;
  switch (fuzzCase.path.style) {
    case 'trailing-slash':
      path += '/';
      break;
    case 'double-slash':
      path = path.replace(/\/([^/]*)$/, '//$1');
      break;
    case 'upper-case':
      path = path.toUpperCase();
      break;
    case 'dot-segment':
      path = path.replace(/^\/api\//, '/api/./x/../');
      break;
    case 'plain':
      break;
  }
  if (fuzzCase.query instanceof Raw) {
    path += `?${fuzzCase.query.text}`;
    said.push(fuzzCase.query.text);
  } else if (fuzzCase.query.length > 0) {
    path += `?${fuzzCase.query
      .map(([name, value]) => {
        const text = stringValue(value, resolve);
        said.push(name, text);
        return `${percentEncode(name)}=${percentEncode(text)}`;
      })
      .join('&')}`;
  }

  const headers: Array<[string, string]> = [];
  if (token !== undefined) {
    const style = fuzzCase.auth;
    const value =
      style === 'bearer'
        ? `bearer ${token}`
        : style === 'double-space'
          ? `Bearer  ${token}`
          : style === 'no-scheme'
            ? token
            : style === 'Basic'
              ? `Basic ${Buffer.from(`user:${token}`).toString('base64')}`
              : style === 'scheme-only'
                ? 'Bearer'
                : style === 'trailing-junk'
                  ? `Bearer ${token} junk`
                  : `Bearer ${token}`;
    headers.push(['authorization', headerValue(value)]);
    if (style === 'twice') headers.push(['authorization', 'Bearer second.token.here']);
  }
  for (const [name, value] of fuzzCase.headers) {
    const text = stringValue(value, resolve);
    said.push(text);
    headers.push([name, headerValue(text)]);
  }

  let body: Buffer | undefined;
  if (fuzzCase.body.kind === 'json') {
    const text = encodeJson(fuzzCase.body.value, resolve);
    said.push(text);
    body = Buffer.from(text, 'utf8');
  } else if (fuzzCase.body.kind === 'text') {
    said.push(fuzzCase.body.text.text);
    body = Buffer.from(fuzzCase.body.text.text, 'utf8');
  } else if (fuzzCase.body.kind === 'utf16') {
    const text = encodeJson(fuzzCase.body.value, resolve);
    said.push(text);
    body = Buffer.from(text, 'utf16le');
  }
  if (body !== undefined) {
    switch (fuzzCase.contentEncoding) {
      case 'gzip':
        body = gzipSync(body);
        headers.push(['content-encoding', 'gzip']);
        break;
      case 'gzip-corrupt':
        body = Buffer.concat([gzipSync(body).subarray(0, 12), Buffer.from('not gzip at all')]);
        headers.push(['content-encoding', 'gzip']);
        break;
      case 'deflate':
      case 'br':
        headers.push(['content-encoding', fuzzCase.contentEncoding]);
        break;
      case 'none':
        break;
    }
  }
  if (
    fuzzCase.contentType !== null &&
    (body !== undefined || fuzzCase.mutated.includes('transport'))
  ) {
    headers.push(['content-type', fuzzCase.contentType]);
  }
  return { method: fuzzCase.method, path, headers, body, said: said.join('\n') };
}
