import { IsString, MaxLength } from 'class-validator';
import { AppError } from '../errors/app-error';
import { Optional, OptionalNullable } from './transforms';
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
