import { Transform } from 'class-transformer';
import { newAccountEmailProblem, normalizeEmail } from '../credentials/email';
import { passwordBytes } from '../credentials/passwords';
import { applyDecorators } from '@nestjs/common';
import {
  IsEmail,
  // The one place IsOptional is used: everything else says whether null is a value.
  // eslint-disable-next-line no-restricted-syntax
  IsOptional,
  IsString,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidationOptions,
} from 'class-validator';

/**
 * The property may be left out, but null is not a value for it: the type rules that follow see
 * the null and name the field. (class-validator's IsOptional skips null as if it were absent,
 * and `PATCH {"content": null}` reached a NOT NULL column.)
 */
export const Optional = (): PropertyDecorator =>
  ValidateIf((_object, value: unknown) => value !== undefined);

/** The property may be left out or be null, which stores NULL (documented as nullable). */
export const OptionalNullable = (): PropertyDecorator => IsOptional();

/** Trims strings; leaves other types alone so the type validators can name the problem. */
export const Trim = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

export const TrimLowerCase = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase() : value,
  );

/**
 * A password's length in UTF-8 bytes of its NFKC form (what is hashed): bcrypt silently ignores
 * everything past 72 bytes, not 72 characters.
 */
export function PasswordBytes(
  min: number,
  max: number,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name: 'passwordBytes',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const bytes = passwordBytes(value);
          return bytes >= min && bytes <= max;
        },
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be ${min} to ${max} bytes long`,
      },
    },
    options,
  );
}

/** An email as the service stores it: trimmed, lower-cased, at most 254 characters, well formed. */
export const NormalizedEmail = (): PropertyDecorator =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? normalizeEmail(value) : value,
    ),
    IsString(),
    MaxLength(254),
    IsEmail({}, { message: 'email must be a valid email address' }),
  );

/**
 * The email of a new account: as `NormalizedEmail`, and already in NFKC form. A fullwidth or
 * styled letter ("ｖictim@corp.com") would make an address that looks like another one in
 * member lists; refused when an account is made (only then: a login with such an address finds
 * nothing, and accounts made before keep working).
 */
export const NewAccountEmail = (): PropertyDecorator =>
  applyDecorators(
    NormalizedEmail(),
    ValidateBy({
      name: 'nfkcEmail',
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'string' || value === value.normalize('NFKC'),
        defaultMessage: (args) => {
          const value = typeof args?.value === 'string' ? args.value : '';
          return `email must not contain fullwidth or styled characters; write it as ${value.normalize('NFKC')}`;
        },
      },
    }),
    ValidateBy({
      name: 'plainEmail',
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'string' || newAccountEmailProblem(value) === undefined,
        defaultMessage: (args) =>
          newAccountEmailProblem(typeof args?.value === 'string' ? args.value : '') ??
          'email is not a plain address',
      },
    }),
  );
