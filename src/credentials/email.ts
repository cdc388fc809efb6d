import { domainToASCII } from 'node:url';

/** A deliberately loose shape check, for emails given in the environment or on a command line. */
export const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An email as the service stores and compares it: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Characters of a dot-atom besides letters, marks and digits (RFC 5322 atext). */
const ATEXT_SYMBOLS = "!#$%&'*+/=?^_`{|}~-";
const ATOM = new RegExp(
  `^[\\p{L}\\p{M}\\p{N}${ATEXT_SYMBOLS.replace(/[\\^\]-]/g, '\\$&')}]+$`,
  'u',
);

/** Scripts people mix up; Han, Hiragana and Katakana (and Han with Hangul) are written together. */
const SCRIPTS: Array<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Georgian', /\p{Script=Georgian}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['CJK', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u],
];

function scriptsOf(text: string): string[] {
  const found = new Set<string>();
  for (const char of text) {
    if (!/\p{L}/u.test(char)) continue;
    found.add(SCRIPTS.find(([, pattern]) => pattern.test(char))?.[0] ?? 'other');
  }
  return [...found];
}

/**
 * What is wrong with the address of a new account, or undefined: the part before the @ must be
 * a dot-atom (letters, digits and RFC 5322's symbols in dot-separated runs: no quoted part, no
 * space or control character, which a mail server would read differently from a person), in one
 * script (a Cyrillic "а" among Latin letters makes a look-alike of another address), and the
 * domain must be written in its IDNA (ASCII) form, which is how a mail server reads it.
 */
export function newAccountEmailProblem(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!local.split('.').every((atom) => ATOM.test(atom))) {
    return `email's part before the @ may hold only letters, digits, dots between them and ${ATEXT_SYMBOLS} (no quotes, spaces or control characters)`;
  }
  const scripts = scriptsOf(local);
  if (scripts.length > 1) {
    return `email's part before the @ mixes scripts (${scripts.join(' and ')}), so it would look like another address; write it in one`;
  }
  if (!/^[\x21-\x7e]+$/.test(domain)) {
    const ascii = domainToASCII(domain);
    return ascii
      ? `email's domain must be written in its IDNA (ASCII) form: ${ascii}`
      : "email's domain is not a valid internationalised domain name";
  }
  return undefined;
}
