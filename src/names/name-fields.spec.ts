import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { TenantNameField, UsernameField } from './name-fields';

class Names {
  @TenantNameField()
  tenantName!: string;

  @UsernameField()
  username!: string;
}

/** The DTO as the validation pipe leaves it, and every message it would answer. */
function check(body: Partial<Record<keyof Names, unknown>>): { names: Names; messages: string[] } {
  const names = plainToInstance(Names, { tenantName: 'Acme', username: 'alice', ...body });
  const messages = validateSync(names).flatMap((error) => Object.values(error.constraints ?? {}));
  return { names, messages };
}

describe('name fields', () => {
  it('should store the normalised forms: NFKC, spaces collapsed and trimmed, usernames lower-cased', () => {
    const { names, messages } = check({
      tenantName: '  Ａｃｍｅ\u00a0\u00a0Corp ',
      username: ' ＡＬＩＣＥ_1 ',
    });
    expect(messages).toEqual([]);
    expect(names).toEqual({ tenantName: 'Acme Corp', username: 'alice_1' });
  });

  it.each([
    ['zero-width space', '\u200b', 'U+200B'],
    ['right-to-left override', '\u202e', 'U+202E'],
    ['right-to-left isolate', '\u2067', 'U+2067'],
    ['control character', '\u0007', 'U+0007'],
    ['trailing line feed', '\n', 'U+000A'],
    ['private use character', '\ue000', 'U+E000'],
    ['unassigned code point', '\u0378', 'U+0378'],
    ['paragraph separator', '\u2029', 'U+2029'],
    ['Hangul filler', '\u3164', 'U+1160'],
  ])('should refuse a %s in either field, naming the field and the character', (_, char, code) => {
    const { messages } = check({ tenantName: `Acme${char}`, username: `alice${char}` });
    const says = (field: string) =>
      `${field} must not contain control, format, invisible or unassigned characters (found ${code})`;
    expect(messages).toContain(says('tenantName'));
    expect(messages).toContain(says('username'));
  });

  it('should count tenant name length in characters (code points), after normalising', () => {
    expect(check({ tenantName: '🚀'.repeat(99) + 'a' }).messages).toEqual([]);
    expect(check({ tenantName: '🚀'.repeat(100) + 'a' }).messages).toEqual([
      'tenantName must be shorter than or equal to 100 characters',
    ]);
    expect(check({ tenantName: ' a ' }).messages).toEqual([
      'tenantName must be longer than or equal to 2 characters',
    ]);
  });

  it('should want a letter or a digit in a tenant name', () => {
    expect(check({ tenantName: '!!! ???' }).messages).toEqual([
      'tenantName must contain a letter or a digit',
    ]);
    expect(check({ tenantName: '東京' }).messages).toEqual([]);
  });

  it('should keep usernames to a-z 0-9 _ . - after normalising', () => {
    expect(check({ username: 'a b' }).messages).toEqual([
      'username must be 3 to 32 characters of a-z, 0-9, _, . or -',
    ]);
    expect(check({ username: '\u0430lice' }).messages).toEqual([
      'username must be 3 to 32 characters of a-z, 0-9, _, . or -',
    ]);
  });

  it('should leave other types to IsString', () => {
    const { messages } = check({ tenantName: 42, username: ['alice'] });
    expect(messages).toContain('tenantName must be a string');
    expect(messages).toContain('username must be a string');
    expect(messages.join(' ')).not.toContain('invisible');
  });
});
