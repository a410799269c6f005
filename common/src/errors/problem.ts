import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { AppError } from './app-error';
import { problem, toAppError } from './catalogue';
import { currentRequestId } from '../logger/context';
import type { Logger } from '../logger';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { field: string; message: string }[];
  requestId?: string;
  /** The problem type's extension members (`AppError.extensions`). */
  [extension: string]: unknown;
}

export function problemOf(err: AppError, requestId = currentRequestId()): ProblemDocument {
  return {
    // First, so that a standard member below always wins over an extension of the same name.
    ...err.extensions,
    type: `urn:market:problem:${err.code}`,
    title: err.title,
    status: err.status,
    detail: err.detail,
    code: err.code,
    ...(err.errors ? { errors: err.errors } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

export function sendProblem(res: Response, err: AppError): void {
  // Whole seconds, at least 1: `Retry-After: 0` would invite an immediate retry that is refused again.
  if (err.retryAfterSeconds !== undefined) res.set('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
  res.status(err.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemOf(err)));
}

/** body-parser's errors carry `type`; turn the ones a client causes into their problems. */
function fromBodyParser(err: unknown): AppError | undefined {
  const type = (err as { type?: unknown })?.type;
  if (type === 'entity.parse.failed') return problem('malformed_json');
  if (type === 'entity.too.large') return problem('payload_too_large', 'jsonBody');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return problem('unsupported_encoding', 'bodyParser');
  }
  return undefined;
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = fromBodyParser(err) ?? toAppError(err);
    if (appError.status >= 500) logger.error('request failed', { err: describeError(err), method: req.method, path: req.path });
    if (res.headersSent) return;
    sendProblem(res, appError);
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(problem('route_not_found', req.method, req.path));
};

export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, message: err.message, code: (err as { code?: unknown }).code, stack: err.stack };
  return { value: String(err) };
}
