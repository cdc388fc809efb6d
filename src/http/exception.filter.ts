import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { databaseOutage } from '../database/outage';
import { clientDataError } from '../database/pg-errors';
import { AppError, ERROR_STATUS, ErrorCode } from '../errors/app-error';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  [extra: string]: unknown;
}

/** Errors Fastify raises before any Nest code runs (body too large, unknown content type, bad URL). */
interface FrameworkError {
  code: string;
  statusCode: number;
}

function isFrameworkError(error: unknown): error is FrameworkError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { code: string }).code.startsWith('FST_') &&
    typeof (error as { statusCode?: unknown }).statusCode === 'number'
  );
}

const FRAMEWORK_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Request bodies must be application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'VALIDATION_FAILED',
    message: 'Content-Length does not match the body',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'VALIDATION_FAILED', message: 'Request body is empty' },
  // Fastify's own answers to these repeat the path; see frameworkErrors in http-adapter.ts.
  FST_ERR_BAD_URL: {
    code: 'VALIDATION_FAILED',
    message: 'The request path is not valid percent-encoded UTF-8',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    code: 'VALIDATION_FAILED',
    message: 'A path parameter is longer than 100 characters',
  },
};

const STATUS_CODES: Partial<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

/**
 * One place that turns errors into HTTP answers: domain codes map to their status, framework
 * HTTP errors keep theirs, database errors the client's data caused (by SQLSTATE) are a 400,
 * and anything unknown is logged and answered with a generic 500.
 */
export function toErrorBody(error: unknown): ErrorBody | undefined {
  if (error instanceof AppError) {
    return { statusCode: error.status, code: error.code, message: error.message, ...error.details };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const raw =
      typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const message = Array.isArray(raw)
      ? raw.join('; ')
      : typeof raw === 'string'
        ? raw
        : error.message;
    return { statusCode: status, code: STATUS_CODES[status] ?? `HTTP_${status}`, message };
  }
  const outage = databaseOutage(error);
  if (outage) return { statusCode: ERROR_STATUS[outage.code], ...outage };
  if (isFrameworkError(error)) {
    const known = FRAMEWORK_ERRORS[error.code];
    if (known) return { statusCode: ERROR_STATUS[known.code], ...known };
    // Whatever else Fastify could not read is a malformed request; its own text is not passed on.
    if (error.statusCode === 400) {
      return { statusCode: 400, code: 'VALIDATION_FAILED', message: 'Malformed request' };
    }
    if (error.statusCode > 400 && error.statusCode < 500) {
      return {
        statusCode: error.statusCode,
        code: STATUS_CODES[error.statusCode] ?? `HTTP_${error.statusCode}`,
        message: 'Malformed request',
      };
    }
  }
  // The safety net behind validation: the answer is right, but validation should have said it.
  const dataError = clientDataError(error);
  if (dataError) {
    return { statusCode: 400, code: 'VALIDATION_FAILED', message: dataError.message };
  }
  return undefined;
}

const RETRY_AFTER_OUTAGE_S = 5;

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = this.adapterHost.httpAdapter;
    const context = host.switchToHttp();
    const response: unknown = context.getResponse();
    const request: unknown = context.getRequest();
    const route = (): string =>
      `${http.getRequestMethod(request) as string} ${(http.getRequestUrl(request) as string).split('?')[0]}`;
    let body = toErrorBody(error);
    if (body?.code === 'NODE_UNAVAILABLE' || body?.code === 'DATABASE_UNAVAILABLE') {
      // Expected during an outage: one line for the operators, no stack.
      const cause = error instanceof Error ? error.message.split('\n')[0] : String(error);
      this.logger.warn(`${body.code} on ${route()}: ${cause}`);
    }
    const dataError = clientDataError(error);
    if (dataError) {
      // The answer is a 400, but validation should have caught it first: leave a trace
      // (the SQLSTATE only; the server's message can quote the row).
      this.logger.warn(`Database refused the input on ${route()} (SQLSTATE ${dataError.sqlState})`);
    } else if (!body) {
      this.logger.error(
        `Unhandled error on ${route()}`,
        error instanceof Error ? error.stack : String(error),
      );
    }
    body ??= {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      code: 'INTERNAL_ERROR',
      message: 'Internal server error',
    };
    if (http.isHeadersSent(response)) return;
    // A node outage or a restart: worth retrying soon, and no reason to drop the instance.
    if (body.statusCode === 503) {
      http.setHeader(response, 'Retry-After', String(RETRY_AFTER_OUTAGE_S));
    }
    if (error instanceof AppError && error.headers) {
      for (const [name, value] of Object.entries(error.headers)) {
        http.setHeader(response, name, value);
      }
    }
    http.reply(response, body, body.statusCode);
  }
}
