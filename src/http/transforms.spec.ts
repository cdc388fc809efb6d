import { IsString, MaxLength } from 'class-validator';
import { AppError } from '../errors/app-error';
import { NewAccountEmail, Optional, OptionalNullable } from './transforms';
import { validateBody } from './validation';

class Patch {
  @Optional()
  @IsString()
  content?: string;

  @OptionalNullable()
  @IsString()
  @MaxLength(5)
  title?: string | null;
}

class SignUp {
  @NewAccountEmail()
  email!: string;
}

describe(Optional.name, () => {
  it('should let the property be left out', () => {
    expect(validateBody(Patch, {})).toEqual({});
  });

  it('should refuse an explicit null with the type rule, naming the field', () => {
    expect(() => validateBody(Patch, { content: null })).toThrow(AppError);
    expect(() => validateBody(Patch, { content: null })).toThrow('content must be a string');
  });

  it('should still check a value that is there', () => {
    expect(() => validateBody(Patch, { content: 5 })).toThrow('content must be a string');
    expect(validateBody(Patch, { content: 'x' })).toEqual({ content: 'x' });
  });
});

describe(OptionalNullable.name, () => {
  it('should accept null, a missing property and a valid value, and check the rest', () => {
    expect(validateBody(Patch, { title: null })).toEqual({ title: null });
    expect(validateBody(Patch, { title: 'ok' })).toEqual({ title: 'ok' });
    expect(() => validateBody(Patch, { title: 'too long' })).toThrow('title must be shorter');
  });
});

describe(NewAccountEmail.name, () => {
  it('should trim and lower-case a plain address, and keep non-Latin letters that are NFKC', () => {
    expect(validateBody(SignUp, { email: ' Alice@Example.com ' })).toEqual({
      email: 'alice@example.com',
    });
    expect(validateBody(SignUp, { email: 'jos\u00e9@example.com' })).toEqual({
      email: 'jos\u00e9@example.com',
    });
  });

  it('should refuse fullwidth and styled letters, naming the address they look like', () => {
    for (const email of ['\uff56ictim@corp.com', 'victim@corp.com'.replace('v', '\u{1d42f}')]) {
      expect(() => validateBody(SignUp, { email })).toThrow(
        'email must not contain fullwidth or styled characters; write it as victim@corp.com',
      );
    }
    // A decomposed accent (NFD) is not NFKC either: the composed spelling is the address.
    expect(() => validateBody(SignUp, { email: 'jose\u0301@example.com' })).toThrow(
      'write it as jos\u00e9@example.com',
    );
  });

  it('should refuse quoted parts and control characters before the @ (issue 19)', () => {
    for (const email of [
      '"a\r\nBcc: evil@x"@example.test',
      '"\u0007bell"@example.test',
      '"a b"@example.test',
    ]) {
      expect(() => validateBody(SignUp, { email })).toThrow(
        /email's part before the @ may hold only letters, digits/,
      );
    }
  });

  it('should refuse a part before the @ that mixes scripts, and keep one script', () => {
    expect(() => validateBody(SignUp, { email: '\u0430lice@example.test' })).toThrow(
      "email's part before the @ mixes scripts (Cyrillic and Latin)",
    );
    expect(validateBody(SignUp, { email: '\u0430\u043b\u0438\u0441\u0430@example.test' })).toEqual({
      email: '\u0430\u043b\u0438\u0441\u0430@example.test',
    });
    expect(validateBody(SignUp, { email: "o'brien+notes@example.test" })).toEqual({
      email: "o'brien+notes@example.test",
    });
  });

  it('should ask for a domain in its IDNA form, naming it', () => {
    expect(() => validateBody(SignUp, { email: 'alice@exam\u0440le.test' })).toThrow(
      "email's domain must be written in its IDNA (ASCII) form: xn--examle-",
    );
    expect(validateBody(SignUp, { email: 'alice@xn--mnchen-3ya.test' })).toEqual({
      email: 'alice@xn--mnchen-3ya.test',
    });
  });
});
