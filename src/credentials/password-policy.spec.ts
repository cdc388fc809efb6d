import { passwordProblem } from './password-policy';

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
