import { Transform } from 'class-transformer';
import { normalizeEmail } from '../credentials/email';
import { passwordBytes } from '../credentials/passwords';
import { applyDecorators } from '@nestjs/common';
import { IsEmail, IsString, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';

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
