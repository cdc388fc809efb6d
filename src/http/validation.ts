import { ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidatorOptions } from 'class-validator';
import { AppError } from '../errors/app-error';

const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
} as const;

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      // class-validator names the leaf property; nested paths need the full path to be useful.
      parent ? `${path}: ${message}` : message,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/** Problems named in one answer; a body can have at most MAX_BODY_KEYS (64) fields. */
export const MAX_REPORTED_PROBLEMS = 10;

export function validationError(errors: ValidationError[]): AppError {
  const all = flatten(errors);
  const messages = all.slice(0, MAX_REPORTED_PROBLEMS);
  if (all.length > messages.length) {
    messages.push(`and ${all.length - messages.length} more problem(s)`);
  }
  return new AppError('VALIDATION_FAILED', messages.join('; ') || 'Invalid request', {
    errors: messages,
  });
}

/**
 * Nest's pipe, validating synchronously: none of the DTOs has an asynchronous rule, and
 * class-validator's async path costs a promise per rule on every request.
 */
class SyncValidationPipe extends ValidationPipe {
  protected override validate(object: object, options?: ValidatorOptions): ValidationError[] {
    return validateSync(object, options);
  }
}

/** Global pipe: unknown properties are rejected, types transformed, every problem named. */
export function buildValidationPipe(): ValidationPipe {
  return new SyncValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: validationError,
  });
}

/** The same rules, for places that run before pipes (passport guards see the raw body). */
export function validateBody<T extends object>(type: new () => T, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('VALIDATION_FAILED', 'Request body must be a JSON object');
  }
  const instance = plainToInstance(type, body);
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) throw validationError(errors);
  return instance;
}
