/**
 * Text PostgreSQL cannot hold as it was sent: NUL (`text` refuses 0x00, SQLSTATE 22021) and a
 * UTF-16 surrogate without its partner (it has no UTF-8 form; node-postgres would silently
 * write U+FFFD instead, and some validators throw on it).
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT = 'must not contain NUL characters or unpaired UTF-16 surrogates';

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

export interface UnstorableText {
  /** Where it was: `content`, `items[2].name`; empty for the top level itself. */
  path: string;
  /** The text was a property name at `path`, not a value. */
  inName: boolean;
}

/**
 * The first string (value or property name) in a parsed JSON value, query or path parameters
 * that PostgreSQL cannot hold. Walks with an explicit stack, never recursion: the depth of what
 * it is given must not decide whether it can finish.
 */
export function findUnstorableText(value: unknown): UnstorableText | undefined {
  const pending: Array<[unknown, string]> = [[value, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, path] = next;
    if (typeof item === 'string') {
      if (!isStorableText(item)) return { path, inName: false };
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i -= 1) pending.push([item[i], `${path}[${i}]`]);
    } else if (typeof item === 'object' && item !== null) {
      const entries = Object.entries(item as Record<string, unknown>);
      for (const [name] of entries) {
        if (!isStorableText(name)) return { path, inName: true };
      }
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [name, child] = entries[i];
        pending.push([child, path ? `${path}.${name}` : name]);
      }
    }
  }
  return undefined;
}

/** `content must not contain ...`; `where` names the whole input (`the body`). */
export function unstorableTextMessage(found: UnstorableText, where: string): string {
  if (found.inName) {
    return `a property name in ${found.path || where} ${UNSTORABLE_TEXT}`;
  }
  return `${found.path || where} ${UNSTORABLE_TEXT}`;
}

export interface MalformedQuery {
  /** The parameter whose value is malformed; undefined when a parameter name is. */
  field?: string;
}

/**
 * A query string whose percent-encoding does not decode to UTF-8 (`%E0%A4%A`, `%ZZ`, an encoded
 * surrogate `%ED%A0%80`). Fastify's parser keeps such a part as it came, so a route would see
 * text the client never meant; this names the parameter instead.
 */
export function findMalformedQuery(query: string): MalformedQuery | undefined {
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const name = decodeQueryPart(equals < 0 ? pair : pair.slice(0, equals));
    if (name === undefined) return {};
    if (equals >= 0 && decodeQueryPart(pair.slice(equals + 1)) === undefined) {
      return { field: isStorableText(name) ? name : undefined };
    }
  }
  return undefined;
}

function decodeQueryPart(part: string): string | undefined {
  try {
    return decodeURIComponent(part.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}
