import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { Request, Response } from 'express';
import { AppError, ErrorCode } from '../errors/app-error';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  [extra: string]: unknown;
}

/** Errors raised by express' body parser before any Nest code runs. */
interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { type?: unknown }).type === 'string' &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

const BODY_PARSER_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  'entity.parse.failed': { code: 'VALIDATION_FAILED', message: 'Request body is not valid JSON' },
  'entity.too.large': { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' },
  'encoding.unsupported': {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported request body encoding',
  },
  'charset.unsupported': {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported request body charset',
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
 * HTTP errors keep theirs, and anything unknown is logged and answered with a generic 500.
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
  if (isBodyParserError(error)) {
    const known = BODY_PARSER_ERRORS[error.type];
    if (known) return { statusCode: error.status, ...known };
    if (error.status >= 400 && error.status < 500) {
      return { statusCode: error.status, code: 'BAD_REQUEST', message: 'Malformed request' };
    }
  }
  return undefined;
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(error: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const response = context.getResponse<Response>();
    const request = context.getRequest<Request>();
    let body = toErrorBody(error);
    if (!body) {
      this.logger.error(
        `Unhandled error on ${request.method} ${request.path}`,
        error instanceof Error ? error.stack : String(error),
      );
      body = {
        statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
        code: 'INTERNAL_ERROR',
        message: 'Internal server error',
      };
    }
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }
}
