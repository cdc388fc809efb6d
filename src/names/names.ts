import { confusablesMap } from 'confusables';

/**
 * Names people can tell apart: tenant names and usernames are shown to people who choose by
 * them (the tenant choice of a login, member lists, the operators' views).
 *
 * - A name is stored in NFKC form, with every run of spaces (any Unicode space separator, such as
 *   a no-break or ideographic space) made one ASCII space and none at either end.
 * - A name may not contain a character that is invisible or changes how the text around it is
 *   shown: control (Cc), format (Cf: zero-width characters, bidi overrides and isolates, the soft
 *   hyphen), surrogate (Cs), private use (Co), unassigned (Cn), line and paragraph separators (Zl,
 *   Zp), Unicode's other default-ignorable characters (Hangul fillers, variation selectors, the
 *   combining grapheme joiner) and the blank braille pattern. Rejected, not removed: a name that
 *   needed cleaning is not what its sender meant to show.
 * - Two names with the same key (nameKey) cannot both exist where the name must be unique.
 */

/** What no name may contain (see above). Default-ignorable adds what Cf leaves out, e.g. U+3164. */
const FORBIDDEN =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/u;

const FORBIDDEN_EVERYWHERE = new RegExp(FORBIDDEN.source, 'gu');

/** `name` without the characters no name may contain: only for names stored before the rules. */
export function withoutForbidden(name: string): string {
  return name.replace(FORBIDDEN_EVERYWHERE, '');
}

/** NFKC, each run of space separators one ASCII space, none at the ends. */
export function normalizeName(name: string): string {
  // Only spaces are trimmed: a control character at either end is rejected like any other.
  return name
    .normalize('NFKC')
    .replace(/\p{Zs}+/gu, ' ')
    .replace(/^ /, '')
    .replace(/ $/, '');
}

/** The first character a name may not contain, as "U+200B", or undefined when there is none. */
export function forbiddenCharacter(name: string): string | undefined {
  const found = FORBIDDEN.exec(name)?.[0];
  if (found === undefined) return undefined;
  return `U+${(found.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Length in code points (what PostgreSQL's char_length counts), not UTF-16 units. */
export function nameLength(name: string): number {
  return [...name].length;
}

/**
 * UTS #39's confusables for ASCII characters, which the confusables package leaves alone, on
 * folded text: 1, I and | look like l (and i must follow I, its capital), 0 like o, m like rn.
 * Plus the dashes and quotes phones and word processors substitute for the ASCII ones.
 */
const ASCII_LOOKS = new Map<string, string>([
  ['0', 'o'],
  ['1', 'l'],
  ['i', 'l'],
  ['|', 'l'],
  ['m', 'rn'],
  ['`', "'"],
  ['"', "''"],
  ['\u2018', "'"],
  ['\u2019', "'"],
  ['\u02bc', "'"],
  ['\u2032', "'"],
  ['\u201c', "''"],
  ['\u201d', "''"],
  ['\u2033', "''"],
]);

const CAPITAL = /[\p{Lu}\p{Lt}]/u;
const DASH = /\p{Pd}/u;

/** Lower-case, then upper, then lower again: ß and ẞ both become ss, ǅ and Ǆ both dž. */
const fold = (text: string): string => text.toLowerCase().toUpperCase().toLowerCase();

/** Decomposed, with every non-spacing and enclosing mark dropped: é, e + U+0301 and e alike. */
const withoutMarks = (text: string): string =>
  text.normalize('NFD').replace(/[\p{Mn}\p{Me}]/gu, '');

/** The Latin letter (or digit) a character looks like, per the confusables package. */
const look = (char: string): string => confusablesMap.get(char) ?? char;

const asciiLook = (char: string): string => ASCII_LOOKS.get(char) ?? (DASH.test(char) ? '-' : char);

const mapChars = (text: string, map: (char: string) => string): string =>
  Array.from(text, map).join('');

/**
 * The key two names share when people could take one for the other: a UTS #39 style skeleton
 * (the confusables package's table, plus UTS #39's ASCII entries above) of the normalised name,
 * with case folded and marks dropped. "Acme", "ACME", "Ａｃｍｅ", "Acmé" and "Асme" (Cyrillic А and
 * с) have one key.
 *
 * Capitals are mapped by their own look before folding, small letters after it: Greek "ΗΟΤΕL"
 * keys as "hotel" (Η looks like H) and Greek "baηk" as "bank" (η looks like n). A script whose
 * capital and small letter look like different Latin letters therefore keeps its case variants
 * apart (Greek "ΗΛΙΟΣ" and "ηλιος"); Latin never does. Errs towards collisions: "Ali" and "All"
 * share a key (I is confusable with l, and i is I's small letter).
 *
 * Keys are stored; changing this function (or upgrading the confusables package or Node's
 * Unicode data) needs a migration that recomputes them.
 */
export function nameKey(name: string): string {
  const capitals = mapChars(withoutMarks(normalizeName(name)), (char) =>
    CAPITAL.test(char) ? look(char) : char,
  );
  const small = mapChars(withoutMarks(fold(capitals)), look);
  return mapChars(withoutMarks(fold(small)), asciiLook).normalize('NFC');
}
