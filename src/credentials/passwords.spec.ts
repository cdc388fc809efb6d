import * as bcrypt from 'bcrypt';
import { AppConfig, loadConfig } from '../config/app-config';
import { normalizePassword, PasswordHasher, passwordBytes } from './passwords';

jest.mock('bcrypt', () => {
  const actual = jest.requireActual<typeof import('bcrypt')>('bcrypt');
  return {
    ...actual,
    compare: jest.fn((data: string, hash: string) => actual.compare(data, hash)),
  };
});

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
});

const compare = bcrypt.compare as jest.Mock;

/** "Crème brûlée!" with precomposed letters (NFC) and with combining accents (NFD). */
const NFC = 'Cr\u00e8me br\u00fbl\u00e9e!';
const NFD = 'Cre\u0300me bru\u0302le\u0301e!';
/** A ligature and a Roman numeral: NFKC turns them into "file cabinet XII". */
const COMPATIBILITY = '\ufb01le cabinet \u216b';
/** Full-width letters and an ideographic space: NFKC turns them into "wrong pass". */
const FULL_WIDTH = '\uff57\uff52\uff4f\uff4e\uff47\u3000\uff50\uff41\uff53\uff53';

describe(PasswordHasher.name, () => {
  let passwords: PasswordHasher;

  beforeAll(async () => {
    passwords = new PasswordHasher(config.bcryptCost);
    await passwords.onModuleInit();
  });

  beforeEach(() => compare.mockClear());

  it('should tell the NFC and NFD spellings apart as strings but not as passwords', () => {
    expect(NFC).not.toBe(NFD);
    expect(normalizePassword(NFC)).toBe(normalizePassword(NFD));
    expect(normalizePassword(COMPATIBILITY)).toBe('file cabinet XII');
  });

  it('should verify the NFC and the NFD spelling of a password against one hash', async () => {
    const fromNfc = await passwords.hash(NFC);
    const fromNfd = await passwords.hash(NFD);
    await expect(passwords.verify(NFD, fromNfc)).resolves.toBe(true);
    await expect(passwords.verify(NFC, fromNfc)).resolves.toBe(true);
    await expect(passwords.verify(NFC, fromNfd)).resolves.toBe(true);
  });

  it('should hash the NFKC form of the password at the configured cost', async () => {
    const hash = await passwords.hash(COMPATIBILITY);
    expect(bcrypt.getRounds(hash)).toBe(4);
    await expect(bcrypt.compare('file cabinet XII', hash)).resolves.toBe(true);
    await expect(passwords.verify('file cabinet XII', hash)).resolves.toBe(true);
  });

  it('should not try a form as typed that bcrypt would cut at 72 bytes', async () => {
    // 72 bytes ending in a Hangul leading consonant; a vowel after it composes into a syllable,
    // so the longer password is 72 bytes in NFKC and 75 as typed (cut back to the first by bcrypt).
    const password = `${'k'.repeat(69)}\u1100`;
    const longer = `${password}\u1161`;
    expect(passwordBytes(longer)).toBe(72);
    const hash = await passwords.hash(password);
    compare.mockClear();
    await expect(passwords.verify(longer, hash)).resolves.toBe(false);
    expect(compare).toHaveBeenCalledTimes(1);
    await expect(passwords.verify(password, hash)).resolves.toBe(true);
  });

  it('should still verify a hash made of the raw, non-NFKC password before normalisation', async () => {
    const legacyNfd = await bcrypt.hash(NFD, 4);
    const legacyLigature = await bcrypt.hash(COMPATIBILITY, 4);
    await expect(passwords.verify(NFD, legacyNfd)).resolves.toBe(true);
    await expect(passwords.verify(COMPATIBILITY, legacyLigature)).resolves.toBe(true);
  });

  it('should not let the normalised spelling open a hash of the raw one', async () => {
    const legacyLigature = await bcrypt.hash(COMPATIBILITY, 4);
    await expect(passwords.verify('file cabinet XII', legacyLigature)).resolves.toBe(false);
  });

  it('should refuse a wrong password', async () => {
    const hash = await passwords.hash('correct horse battery');
    await expect(passwords.verify('correct horse batterY', hash)).resolves.toBe(false);
    await expect(passwords.verify(NFD, hash)).resolves.toBe(false);
  });

  it('should spend one comparison on a missing hash and still answer false', async () => {
    await expect(passwords.verify('anything at all', undefined)).resolves.toBe(false);
    await expect(passwords.verify('anything at all', null)).resolves.toBe(false);
    expect(compare).toHaveBeenCalledTimes(2);
    const [[, first], [, second]] = compare.mock.calls as Array<[string, string]>;
    expect(first).toMatch(/^\$2[aby]\$04\$/);
    expect(second).toBe(first);
  });

  it('should not open a missing hash with a non-NFKC password', async () => {
    await expect(passwords.verify(COMPATIBILITY, undefined)).resolves.toBe(false);
    await expect(passwords.verify(NFD, null)).resolves.toBe(false);
  });

  it('should answer false for a missing hash even if the dummy comparison matched', async () => {
    compare.mockResolvedValueOnce(true);
    await expect(passwords.verify('anything at all', undefined)).resolves.toBe(false);
    compare.mockResolvedValueOnce(false).mockResolvedValueOnce(true);
    await expect(passwords.verify(COMPATIBILITY, null)).resolves.toBe(false);
  });

  it('should compare a non-NFKC password twice against the dummy when there is no hash', async () => {
    await passwords.verify(COMPATIBILITY, undefined);
    const calls = compare.mock.calls as Array<[string, string]>;
    expect(calls.map(([data]) => data)).toEqual(['file cabinet XII', COMPATIBILITY]);
    expect(calls[0][1]).toMatch(/^\$2[aby]\$04\$/);
    expect(calls[1][1]).toBe(calls[0][1]);
  });

  it.each([
    ['an NFKC-invariant', 'wrong horse battery', 1],
    ['a ligature', COMPATIBILITY, 2],
    ['a full-width', FULL_WIDTH, 2],
  ])(
    'should spend as many comparisons on %s wrong password with or without a hash',
    async (_, password, expected) => {
      expect(normalizePassword(password) !== password).toBe(expected === 2);
      const hash = await passwords.hash('correct horse battery');
      const counts: number[] = [];
      for (const stored of [hash, undefined, null]) {
        compare.mockClear();
        await expect(passwords.verify(password, stored)).resolves.toBe(false);
        counts.push(compare.mock.calls.length);
      }
      expect(counts).toEqual([expected, expected, expected]);
    },
  );

  it('should spend one comparison on an NFKC password and two on a non-NFKC wrong one', async () => {
    const hash = await passwords.hash('correct horse battery');
    compare.mockClear();
    await passwords.verify('wrong horse battery', hash);
    expect(compare).toHaveBeenCalledTimes(1);
    compare.mockClear();
    await passwords.verify(COMPATIBILITY, hash);
    expect(compare).toHaveBeenCalledTimes(2);
    expect(compare).toHaveBeenLastCalledWith(COMPATIBILITY, hash);
  });
});

describe(passwordBytes.name, () => {
  it('should count the UTF-8 bytes of the NFKC form that bcrypt reads', () => {
    expect(Buffer.byteLength(NFD, 'utf8')).toBe(19);
    expect(passwordBytes(NFD)).toBe(16);
    expect(passwordBytes(NFC)).toBe(16);
    expect(passwordBytes(COMPATIBILITY)).toBe(16);
  });
});
