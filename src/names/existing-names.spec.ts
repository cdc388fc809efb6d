import fc from 'fast-check';
import {
  cleanExistingName,
  settleNames,
  TENANT_NAME_RULES,
  USERNAME_RULES,
} from './existing-names';
import { forbiddenCharacter, nameKey, normalizeName } from './names';

const rows = (...names: string[]) => names.map((name, i) => ({ id: String(i + 1), name }));

describe('existing names', () => {
  describe(cleanExistingName.name, () => {
    it.each([
      ['Acme\u200b', 'Acme'],
      ['\u202eemcA', 'emcA'],
      ['  Ａｃｍｅ\u00a0 Ltd\n', 'Acme Ltd'],
      ['\u200b\u3164', ''],
    ])('should store %j as %j', (name, cleaned) => {
      expect(cleanExistingName(name, TENANT_NAME_RULES)).toBe(cleaned);
    });

    it('should lower-case usernames and keep every name within its length', () => {
      expect(cleanExistingName(' ＡＬＩＣＥ ', USERNAME_RULES)).toBe('alice');
      expect(cleanExistingName('㍿'.repeat(30), TENANT_NAME_RULES)).toBe('株式会社'.repeat(25));
    });
  });

  describe(settleNames.name, () => {
    it('should keep the oldest of look-alike names and tell the later ones apart by their id', () => {
      const settled = settleNames(
        rows('Acme', 'Acme\u200b', '\u0410\u0441me', 'Ａｃｍｅ Ltd', '\u200b', 'Globex', 'ACME'),
        TENANT_NAME_RULES,
      );
      expect(settled.map(({ id, name, change }) => [id, name, change?.split(':')[0]])).toEqual([
        ['1', 'Acme', undefined],
        ['2', 'Acme (2)', 'renamed'],
        ['3', '\u0410\u0441me (3)', 'renamed'],
        ['4', 'Acme Ltd', 'normalised (NFKC, spaces, invisible characters)'],
        ['5', 'Tenant 5', 'normalised (NFKC, spaces, invisible characters)'],
        ['6', 'Globex', undefined],
        ['7', 'ACME (7)', 'renamed'],
      ]);
      expect(settled[1].change).toBe('renamed: it looked like the name of tenant 1');
      for (const { name, key } of settled) expect(key).toBe(nameKey(name));
    });

    it('should give later look-alike usernames their id', () => {
      const settled = settleNames(rows('alice', 'a1ice', 'ALICE\u200b', 'bob'), USERNAME_RULES);
      expect(settled.map(({ name }) => name)).toEqual(['alice', 'a1ice-2', 'alice-3', 'bob']);
    });

    it('should shorten a name to make room for the id', () => {
      const long = 'x'.repeat(100);
      const [, second] = settleNames(rows(long, long), TENANT_NAME_RULES);
      expect(second.name).toBe(`${'x'.repeat(96)} (2)`);
    });

    it('should stop, naming the rows, when a renamed name still looks like another one', () => {
      expect(() => settleNames(rows('Acme', 'Acme (3)', 'Acme'), TENANT_NAME_RULES)).toThrow(
        'tenant 3: renamed to tell it apart from tenant 1, its name still looks like the name of tenant 2',
      );
    });

    it('should leave no two keys alike and every name clean, whatever was stored', () => {
      const piece = fc.constantFrom(
        'Acme',
        'acme',
        '\u0410\u0441me',
        '\u200b',
        ' ',
        '1',
        'l',
        '\u202e',
        'Ａ',
      );
      fc.assert(
        fc.property(
          fc.array(fc.array(piece, { maxLength: 4 }).map((parts) => parts.join(''))),
          (names) => {
            let settled;
            try {
              settled = settleNames(rows(...names), TENANT_NAME_RULES);
            } catch {
              return; // refused, naming the rows: nothing half done to check
            }
            expect(new Set(settled.map(({ key }) => key)).size).toBe(settled.length);
            for (const { name } of settled) {
              expect(forbiddenCharacter(name)).toBeUndefined();
              expect(normalizeName(name)).toBe(name);
              expect(name.length).toBeGreaterThan(0);
            }
          },
        ),
      );
    });
  });
});
