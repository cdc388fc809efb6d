import { forbiddenCharacter, nameKey, nameLength, normalizeName, withoutForbidden } from './names';

/**
 * Names stored before the rules of names.ts, brought to them (by the NameKeys migration).
 * Renaming is deterministic, so running it on a copy of the data gives the same result.
 */

export interface ExistingName {
  id: string;
  name: string;
}

export interface SettledName extends ExistingName {
  key: string;
  /** Why the name changed, for the migration's log; undefined when it did not. */
  change?: string;
}

export interface NameRules {
  /** "tenant" or "user", for messages. */
  kind: string;
  maxLength: number;
  lowerCase: boolean;
  /** The name of a row whose name had nothing left once cleaned. */
  fallback: (id: string) => string;
  /** What tells a later look-alike apart: " (57)" for tenant 57. */
  suffix: (id: string) => string;
}

export const TENANT_NAME_RULES: NameRules = {
  kind: 'tenant',
  maxLength: 100,
  lowerCase: false,
  fallback: (id) => `Tenant ${id}`,
  suffix: (id) => ` (${id})`,
};

export const USERNAME_RULES: NameRules = {
  kind: 'user',
  maxLength: 32,
  lowerCase: true,
  fallback: (id) => `user-${id}`,
  suffix: (id) => `-${id}`,
};

const truncate = (name: string, length: number): string =>
  normalizeName(Array.from(name).slice(0, length).join(''));

/** The stored form of an old name: the characters no name may contain removed, then normalised. */
export function cleanExistingName(name: string, rules: NameRules): string {
  let cleaned = normalizeName(withoutForbidden(name));
  if (rules.lowerCase) cleaned = cleaned.toLowerCase();
  // NFKC can make one invisible character of another (U+3164 becomes U+1160).
  if (forbiddenCharacter(cleaned)) cleaned = withoutForbidden(cleaned);
  return truncate(cleaned, rules.maxLength);
}

/**
 * Settles `rows`, oldest first: each name is cleaned (cleanExistingName); when its key is taken
 * by an older row, the older row keeps it and this one gets its id appended ("Acme (57)",
 * "alice-57"). A name that still looks like another one after that stops everything with a
 * message naming both rows: then a person has to choose.
 */
export function settleNames(rows: ExistingName[], rules: NameRules): SettledName[] {
  const holders = new Map<string, string>();
  return rows.map(({ id, name }) => {
    let settled = cleanExistingName(name, rules) || rules.fallback(id);
    let change = settled === name ? undefined : 'normalised (NFKC, spaces, invisible characters)';
    let key = nameKey(settled);
    const holder = holders.get(key);
    if (holder !== undefined) {
      const suffix = rules.suffix(id);
      settled = truncate(settled, rules.maxLength - nameLength(suffix)) + suffix;
      change = `renamed: it looked like the name of ${rules.kind} ${holder}`;
      key = nameKey(settled);
      const still = holders.get(key);
      if (still !== undefined) {
        throw new Error(
          `${rules.kind} ${id}: renamed to tell it apart from ${rules.kind} ${holder}, its name ` +
            `still looks like the name of ${rules.kind} ${still}; rename one of them and migrate again`,
        );
      }
    }
    holders.set(key, id);
    return { id, name: settled, key, change };
  });
}
