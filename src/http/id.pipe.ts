import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { ValidateBy, ValidationOptions } from 'class-validator';
import { AppError } from '../errors/app-error';

const MAX_BIGINT = 9223372036854775807n;
const ID_PATTERN = /^[1-9]\d{0,18}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value) && BigInt(value) <= MAX_BIGINT;
}

/** Path ids are positive bigints, kept as strings end to end (JSON numbers lose precision). */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!isId(value)) {
      const name = metadata.data ?? 'id';
      throw new AppError('VALIDATION_FAILED', `${name} must be a positive integer id`, {
        errors: [`${name} must be a positive integer id`],
      });
    }
    return value;
  }
}

/** class-validator rule for ids in bodies and query strings (cursor, tenant id). */
export function IsId(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isId',
      validator: {
        validate: (value: unknown) => isId(value),
        defaultMessage: (args) => `${args?.property ?? 'value'} must be a positive integer id`,
      },
    },
    validationOptions,
  );
}
