import { ArgumentsHost, BadRequestException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { AllExceptionsFilter, toErrorBody } from './exception.filter';
import { clientErrorResponse, readJsonBody } from './http-adapter';
import { isId, ParseIdPipe } from './id.pipe';
import { toPage } from './pagination';

describe(ParseIdPipe.name, () => {
  const pipe = new ParseIdPipe();

  it('should accept positive bigint ids up to the bigint maximum', () => {
    expect(pipe.transform('1', { type: 'param', data: 'id' })).toBe('1');
    expect(isId('9223372036854775807')).toBe(true);
  });

  it.each(['0', '-1', '01', '1.5', 'abc', '', '9223372036854775808', '1e3', ' 1'])(
    'should reject %j with a 400 that names the parameter',
    (value) => {
      expect(() => pipe.transform(value, { type: 'param', data: 'id' })).toThrow(
        'id must be a positive integer id',
      );
    },
  );
});

describe(toPage.name, () => {
  const rows = ['9', '8', '7'].map((id) => ({ id }));

  it('should return a cursor only when a further row exists', () => {
    expect(toPage(rows, 2, (r) => r.id)).toEqual({ items: ['9', '8'], nextCursor: '8' });
    expect(toPage(rows, 3, (r) => r.id)).toEqual({ items: ['9', '8', '7'], nextCursor: null });
  });
});

describe(toErrorBody.name, () => {
  it('should map domain codes to their status and keep details', () => {
    expect(toErrorBody(new AppError('TENANT_CHOICE_REQUIRED', 'choose', { tenants: [] }))).toEqual({
      statusCode: 409,
      code: 'TENANT_CHOICE_REQUIRED',
      message: 'choose',
      tenants: [],
    });
  });

  it('should keep framework HTTP errors as they are', () => {
    expect(toErrorBody(new BadRequestException('bad'))).toMatchObject({
      statusCode: 400,
      message: 'bad',
    });
  });

  it('should leave unknown errors to the generic 500 path', () => {
    expect(toErrorBody(new Error('boom'))).toBeUndefined();
    expect(toErrorBody(new AppError('FORBIDDEN', 'no'))?.statusCode).toBe(403);
  });
});

describe(violatedUniqueConstraint.name, () => {
  const failure = (driverError: object) =>
    new QueryFailedError('INSERT', [], Object.assign(new Error('x'), driverError));

  it('should read the constraint from the field or, as Citus relays it, from the message', () => {
    expect(
      violatedUniqueConstraint(failure({ code: '23505', constraint: 'users_email_key' })),
    ).toBe('users_email_key');
    expect(
      violatedUniqueConstraint(
        failure({
          code: '23505',
          message: 'duplicate key value violates unique constraint "users_email_key_102008"',
        }),
      ),
    ).toBe('users_email_key_102008');
    expect(violatedUniqueConstraint(failure({ code: '23503' }))).toBeUndefined();
    expect(violatedUniqueConstraint(new Error('x'))).toBeUndefined();
  });

  it('should match shard copies of a constraint but not other constraints', () => {
    expect(isConstraint('users_email_key_102008', 'users_email_key')).toBe(true);
    expect(isConstraint('users_email_key', 'users_email_key')).toBe(true);
    expect(isConstraint('users_email_lower', 'users_email_key')).toBe(false);
  });
});

describe(AllExceptionsFilter.name, () => {
  function setup() {
    const reply = jest.fn();
    const setHeader = jest.fn();
    const adapter = {
      reply,
      setHeader,
      isHeadersSent: () => false,
      getRequestUrl: (request: { url: string }) => request.url,
      getRequestMethod: (request: { method: string }) => request.method,
    };
    const host = {
      switchToHttp: () => ({
        getResponse: () => ({}),
        getRequest: () => ({ method: 'GET', url: '/x?token=secret' }),
      }),
    } as unknown as ArgumentsHost;
    const filter = new AllExceptionsFilter({ httpAdapter: adapter } as unknown as HttpAdapterHost);
    return { filter, host, reply, setHeader };
  }

  it('should answer a node outage with 503, Retry-After and a warning without a stack', () => {
    const { filter, host, reply, setHeader } = setup();
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const citus = Object.assign(
      new DatabaseError(
        'connection to the remote node postgres@w2:5432 failed with the following error',
        0,
        'error',
      ),
      { code: '08006', severity: 'ERROR' },
    );
    filter.catch(citus, host);
    expect(reply).toHaveBeenCalledWith(
      {},
      expect.objectContaining({ statusCode: 503, code: 'NODE_UNAVAILABLE' }),
      503,
    );
    expect(setHeader).toHaveBeenCalledWith({}, 'Retry-After', '5');
    expect(warned).toHaveBeenCalledWith(
      'NODE_UNAVAILABLE on GET /x: connection to the remote node postgres@w2:5432 failed with the following error',
    );
    warned.mockRestore();
  });

  it('should answer an unknown error with a logged, generic 500 that reveals nothing', () => {
    const { filter, host, reply } = setup();
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    filter.catch(new Error('password=hunter2 in SQL'), host);
    expect(reply).toHaveBeenCalledWith(
      {},
      { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' },
      500,
    );
    expect(logged).toHaveBeenCalledWith('Unhandled error on GET /x', expect.any(String));
    logged.mockRestore();
  });

  it('should answer a domain error with its mapped status and code', () => {
    const { filter, host, reply } = setup();
    filter.catch(new AppError('NOTE_NOT_FOUND', 'Note 1 not found'), host);
    expect(reply).toHaveBeenCalledWith(
      {},
      { statusCode: 404, code: 'NOTE_NOT_FOUND', message: 'Note 1 not found' },
      404,
    );
  });

  it("should map Fastify's own request errors to the documented codes", () => {
    const fastifyError = (code: string, statusCode: number) =>
      Object.assign(new Error('fastify says'), { code, statusCode });
    expect(toErrorBody(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413))).toMatchObject({
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(toErrorBody(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415))).toMatchObject({
      statusCode: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    expect(toErrorBody(fastifyError('FST_ERR_SOMETHING_NEW', 400))).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'Malformed request',
    });
    expect(toErrorBody(fastifyError('FST_ERR_BAD_URL', 400))).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'The request path is not valid percent-encoded UTF-8',
    });
    expect(toErrorBody(fastifyError('FST_ERR_MAX_PARAM_LENGTH', 414))).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(toErrorBody(fastifyError('FST_ERR_SOMETHING_BROKEN', 500))).toBeUndefined();
  });

  it('should answer a database error the input caused with a 400 and log its SQLSTATE', () => {
    const { filter, host, reply } = setup();
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const driverError = Object.assign(
      new DatabaseError('null value in column "content" violates not-null constraint', 0, 'error'),
      { code: '23502', column: 'content' },
    );
    filter.catch(new QueryFailedError('UPDATE', [], driverError), host);
    expect(reply).toHaveBeenCalledWith(
      {},
      { statusCode: 400, code: 'VALIDATION_FAILED', message: 'content must not be null' },
      400,
    );
    expect(warned).toHaveBeenCalledWith('Database refused the input on GET /x (SQLSTATE 23502)');
    warned.mockRestore();
  });

  it('should keep a database error the input did not cause a logged 500', () => {
    const { filter, host, reply } = setup();
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const deadlock = Object.assign(new DatabaseError('deadlock detected', 0, 'error'), {
      code: '40P01',
    });
    filter.catch(deadlock, host);
    expect(reply).toHaveBeenCalledWith(
      {},
      { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' },
      500,
    );
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
  });
});

describe(readJsonBody.name, () => {
  const read = (text: string) => () => readJsonBody(Buffer.from(text));
  const failure = (run: () => unknown): AppError => {
    try {
      run();
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error('expected an AppError');
  };

  it('should return a JSON object', () => {
    expect(read('{"content":"x","n":[1,{"a":null}]}')()).toEqual({
      content: 'x',
      n: [1, { a: null }],
    });
  });

  it.each([
    ['', 'Request body is empty'],
    ['{"content": "secret', 'Request body is not valid JSON'],
    ['[1,2]', 'Request body must be a JSON object'],
    ['"text"', 'Request body must be a JSON object'],
    ['null', 'Request body must be a JSON object'],
    ['{"__proto__":{"isAdmin":true}}', 'Request body is not valid JSON'],
  ])('should refuse %j with a generic 400', (text, message) => {
    const error = failure(read(text));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', message });
    expect(error.message).not.toContain('secret');
  });

  it('should refuse a body that is not UTF-8 instead of replacing the bytes', () => {
    const surrogateBytes = Buffer.from([
      0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d,
    ]);
    expect(failure(() => readJsonBody(surrogateBytes)).message).toBe(
      'Request body is not valid UTF-8',
    );
    expect(failure(() => readJsonBody(Buffer.from([0x7b, 0xff, 0x7d]))).message).toBe(
      'Request body is not valid UTF-8',
    );
  });

  it('should refuse deep nesting before parsing it, naming the field', () => {
    const deep = `{"email":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(failure(read(deep))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'email nests deeper than 8 levels of objects and arrays',
      details: { errors: ['email nests deeper than 8 levels of objects and arrays'] },
    });
    // Invalid JSON too: the depth is measured first, so nothing recursive ever sees it.
    expect(failure(read('['.repeat(100_000))).message).toBe(
      'Request body nests deeper than 8 levels of objects and arrays',
    );
  });

  it('should refuse NUL and unpaired surrogates anywhere, naming the field', () => {
    expect(failure(read('{"title":"ok","content":"a\\u0000b"}')).message).toBe(
      'content must not contain NUL characters or unpaired UTF-16 surrogates',
    );
    expect(failure(read('{"tenantName":"a\\ud800b"}')).message).toBe(
      'tenantName must not contain NUL characters or unpaired UTF-16 surrogates',
    );
    expect(failure(read('{"a":[{"b":"\\udc00"}]}')).message).toBe(
      'a[0].b must not contain NUL characters or unpaired UTF-16 surrogates',
    );
    expect(read('{"a":"\\ud83d\\ude00"}')()).toEqual({ a: '😀' });
  });
});

describe(clientErrorResponse.name, () => {
  it("should answer the HTTP parser's refusals in the documented shape and close", () => {
    const parse = (text: string) => {
      const [head, body] = text.split('\r\n\r\n');
      return { head, body: JSON.parse(body) as unknown };
    };
    const overflow = parse(clientErrorResponse({ code: 'HPE_HEADER_OVERFLOW' }));
    expect(overflow.head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(overflow.head).toContain('Connection: close');
    expect(overflow.body).toEqual({
      statusCode: 431,
      code: 'HEADERS_TOO_LARGE',
      message: 'The request headers are too large',
    });
    expect(parse(clientErrorResponse({ code: 'ERR_HTTP_REQUEST_TIMEOUT' })).body).toMatchObject({
      statusCode: 408,
      code: 'REQUEST_TIMEOUT',
    });
    const other = clientErrorResponse({ code: 'HPE_INVALID_METHOD' });
    expect(parse(other).body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    const length = /Content-Length: (\d+)/.exec(other)?.[1];
    expect(Number(length)).toBe(Buffer.byteLength(other.split('\r\n\r\n')[1]));
  });
});
