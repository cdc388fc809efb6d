import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsString, Matches, ValidateBy } from 'class-validator';
import { forbiddenCharacter, nameLength, normalizeName } from './names';

export const TENANT_NAME_MIN = 2;
export const TENANT_NAME_MAX = 100;
export const USERNAME_PATTERN = /^[a-z0-9_.-]{3,32}$/;

const normalized = (lowerCase: boolean) =>
  Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') return value;
    const name = normalizeName(value);
    return lowerCase ? name.toLowerCase() : name;
  });

/** Fails on a string holding a character no name may contain, and names that character. */
const VisibleCharacters = (): PropertyDecorator =>
  ValidateBy({
    name: 'visibleCharacters',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !forbiddenCharacter(value),
      defaultMessage: (args) =>
        `${args?.property ?? 'value'} must not contain control, format, invisible or unassigned ` +
        `characters (found ${forbiddenCharacter(String(args?.value)) ?? 'one'})`,
    },
  });

/** Between min and max code points, with the words of class-validator's @Length. */
const CodePointLength = (min: number, max: number): PropertyDecorator =>
  ValidateBy({
    name: 'codePointLength',
    validator: {
      validate: (value: unknown) =>
        typeof value !== 'string' || (nameLength(value) >= min && nameLength(value) <= max),
      defaultMessage: (args) => {
        const property = args?.property ?? 'value';
        return nameLength(String(args?.value)) < min
          ? `${property} must be longer than or equal to ${min} characters`
          : `${property} must be shorter than or equal to ${max} characters`;
      },
    },
  });

/**
 * A tenant name as stored: NFKC, spaces collapsed and trimmed (see names.ts), 2 to 100
 * characters, at least one letter or digit, nothing invisible.
 */
export const TenantNameField = (): PropertyDecorator =>
  applyDecorators(
    normalized(false),
    IsString(),
    VisibleCharacters(),
    CodePointLength(TENANT_NAME_MIN, TENANT_NAME_MAX),
    Matches(/[\p{L}\p{N}]/u, { message: '$property must contain a letter or a digit' }),
  );

/** A username as stored: the NFKC form, lower-cased, 3 to 32 of a-z 0-9 _ . - */
export const UsernameField = (): PropertyDecorator =>
  applyDecorators(
    normalized(true),
    IsString(),
    VisibleCharacters(),
    Matches(USERNAME_PATTERN, {
      message: '$property must be 3 to 32 characters of a-z, 0-9, _, . or -',
    }),
  );
