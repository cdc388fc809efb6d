import { operatorPasswordProblem, passwordProblem } from './password-policy';

const EMAIL = 'alice@example.com';

describe(passwordProblem.name, () => {
  it('should allow a good passphrase', () => {
    expect(passwordProblem('correct horse battery staple', EMAIL)).toBeUndefined();
    expect(passwordProblem('Tr0mbone-Lantern-Quiet', EMAIL)).toBeUndefined();
  });

  it.each([EMAIL, 'Alice@Example.COM', 'ALICE@EXAMPLE.COM'])(
    'should refuse the email address itself as the password, in any case (%s)',
    (password) => {
      expect(passwordProblem(password, EMAIL)).toBe('password must not be the email address');
    },
  );

  it('should compare with the email in any case on the email side too', () => {
    expect(passwordProblem('alice@example.com', 'Alice@Example.com')).toBe(
      'password must not be the email address',
    );
  });

  it('should allow a password that merely contains the email', () => {
    expect(passwordProblem(`${EMAIL}!2024`, EMAIL)).toBeUndefined();
  });

  it.each(['password1', 'Password1', 'PASSWORD1', 'qwertyuiop', 'letmein1'])(
    'should refuse the common password %s',
    (password) => {
      expect(passwordProblem(password, EMAIL)).toBe(
        'password is one of the most common passwords; choose another',
      );
    },
  );

  it('should refuse a common password written with full-width letters (NFKC)', () => {
    expect(passwordProblem('\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11', EMAIL)).toBe(
      'password is one of the most common passwords; choose another',
    );
  });

  it.each(['aaaaaaaa', 'abababab', 'AaAaAaAaAaAa', '1111111111111'])(
    'should refuse %s, which uses fewer than 3 different characters',
    (password) => {
      expect(passwordProblem(password, EMAIL)).toBe(
        'password must use at least 3 different characters',
      );
    },
  );

  it('should allow 3 different characters when the password is not common', () => {
    expect(passwordProblem('xyzzyxzyxzyzxy', EMAIL)).toBeUndefined();
  });
});

describe(operatorPasswordProblem.name, () => {
  const OPS = 'ops@example.com';

  it('should allow a long passphrase', () => {
    expect(operatorPasswordProblem('a long operator password', OPS)).toBeUndefined();
  });

  it.each([
    ['too short', 'elevenbytes'],
    ['too long', 'x'.repeat(70) + 'yz!'],
    // 12 bytes as typed, 4 once NFKC folds the full-width letters: what would be hashed.
    ['short only in NFKC form', '\uff41\uff42\uff43\uff44'],
    // 72 bytes as typed, 288 in NFKC form (each ㍿ is 株式会社): bcrypt would drop the rest.
    ['long only in NFKC form', '\u337f'.repeat(24)],
  ])('should refuse a password %s, counting the bytes of its NFKC form', (_, password) => {
    expect(operatorPasswordProblem(password, OPS)).toBe('password must be 12 to 72 bytes long');
  });

  it('should refuse what tenant passwords may not be either', () => {
    expect(operatorPasswordProblem('Ops@Example.com', OPS)).toBe(
      'password must not be the email address',
    );
    expect(operatorPasswordProblem('PasswordPassword', OPS)).toBe(
      'password is one of the most common passwords; choose another',
    );
    expect(operatorPasswordProblem('abababababab', OPS)).toBe(
      'password must use at least 3 different characters',
    );
  });

  it('should name the password as told', () => {
    expect(operatorPasswordProblem('short', OPS, 'ADMIN_PASSWORD')).toBe(
      'ADMIN_PASSWORD must be 12 to 72 bytes long',
    );
    expect(operatorPasswordProblem('ops@example.com', OPS, 'ADMIN_PASSWORD')).toBe(
      'ADMIN_PASSWORD must not be the email address',
    );
  });
});
