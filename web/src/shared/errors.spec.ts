import { ERROR_STATUS } from '../../../src/errors/app-error';
import { ApiError, describeError, ERROR_MESSAGES } from './errors';

const answer = (body: object, status = 400, headers: Record<string, string> = {}) =>
  ApiError.from(new Response(JSON.stringify(body), { status, headers }));

describe('describeError', () => {
  it('should have a sentence for every error code the service can answer', () => {
    // NOT_FOUND comes from the exception filter's status map, not from a domain error.
    const codes = [...Object.keys(ERROR_STATUS), 'NOT_FOUND', 'INTERNAL_ERROR'];
    expect(codes.filter((code) => !ERROR_MESSAGES[code])).toEqual([]);
  });

  it('should show the field the API names for a validation error', async () => {
    const error = await answer({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'content must be longer than or equal to 1 characters',
      errors: ['content must be longer than or equal to 1 characters'],
    });
    expect(describeError(error)).toBe(
      'Please check what you entered. Content must be longer than or equal to 1 characters.',
    );
  });

  it('should say how long to wait when rate limited', async () => {
    const error = await answer(
      { statusCode: 429, code: 'TOO_MANY_REQUESTS', message: 'Too many requests' },
      429,
      { 'Retry-After': '4' },
    );
    expect(describeError(error)).toBe('Too many attempts. Wait 4 s, then try again.');
  });

  it('should fall back to a generic sentence for an answer that is not the error shape', async () => {
    const error = await ApiError.from(new Response('<html>bad gateway</html>', { status: 502 }));
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(describeError(error)).toBe(ERROR_MESSAGES.INTERNAL_ERROR);
    expect(describeError(new Error('boom'))).toBe(ERROR_MESSAGES.INTERNAL_ERROR);
  });
});
