/**
 * How deep a request body may nest, counting the top-level object as 1. No DTO has a nested
 * object today; the headroom is for ones that will.
 */
export const MAX_BODY_DEPTH = 8;

/**
 * How many keys a request body may hold, at every depth together. The largest DTO has six
 * fields; a body of thousands of unknown keys would cost class-validator hundreds of
 * milliseconds of CPU (and the answer a line per key) before it is refused.
 */
export const MAX_BODY_KEYS = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
/** Only names like these are repeated in an error message; anything else is left unnamed. */
const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export interface ExcessiveNesting {
  /** The top-level property the nesting is under, when the body is an object with a plain key. */
  field?: string;
}

/**
 * Finds nesting deeper than `maxDepth` in a JSON text with one loop over its characters, before
 * anything parses or walks it: class-transformer, class-validator and Nest's prototype-key
 * stripping all recurse over a parsed body and overflow the stack at around 2,000 levels.
 * Brackets inside strings do not count. The text need not be valid JSON (the parser decides
 * that afterwards); only its brackets are counted.
 */
export function findExcessiveNesting(text: string, maxDepth: number): ExcessiveNesting | undefined {
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let topLevelObject = false;
  // In a top-level object, the last string that ended at depth 1 before a container opens is
  // that member's key.
  let lastKey: [number, number] | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === BACKSLASH) {
        i += 1;
      } else if (char === QUOTE) {
        inString = false;
        if (depth === 1 && topLevelObject) lastKey = [stringStart, i + 1];
      }
      continue;
    }
    if (char === QUOTE) {
      inString = true;
      stringStart = i;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      if (depth === 0) topLevelObject = char === OPEN_BRACE;
      depth += 1;
      if (depth > maxDepth) {
        return { field: lastKey && topLevelObject ? plainName(text.slice(...lastKey)) : undefined };
      }
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return undefined;
}

function plainName(quoted: string): string | undefined {
  try {
    const name: unknown = JSON.parse(quoted);
    return typeof name === 'string' && PLAIN_NAME.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a JSON text holds more than `maxKeys` object keys, counted on the text (a colon outside
 * a string ends a key) and without parsing it; it stops at the first key too many.
 */
export function exceedsKeyCount(text: string, maxKeys: number): boolean {
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === BACKSLASH) i += 1;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === COLON) {
      keys += 1;
      if (keys > maxKeys) return true;
    }
  }
  return false;
}
