import { STATUS_CODES } from 'node:http';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * RFC 9457 extension members: facts specific to one problem type that a client may act on without
 * parsing `detail` (e.g. the `orderId` you already hold). JSON values only; they travel through RPC
 * and never replace a standard member of the problem.
 */
export type ProblemExtensions = Readonly<Record<string, string | number | boolean>>;

/**
 * The one error type the domain throws. `code` is stable and machine readable; `detail` is a
 * sentence a person can read. Only the edges (HTTP, RPC) turn it into a response.
 * `retryAfterSeconds` (a 429 or 503 that knows when trying again can succeed) travels through RPC
 * replies and becomes the response's `Retry-After` header wherever the problem is finally sent.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly retryAfterSeconds?: number,
    readonly extensions?: ProblemExtensions,
  ) {
    super(detail);
    this.name = 'AppError';
  }

  get title(): string {
    return STATUS_CODES[this.status] ?? 'Error';
  }

  toJSON(): SerializedAppError {
    return {
      status: this.status,
      code: this.code,
      detail: this.detail,
      ...(this.errors ? { errors: this.errors } : {}),
      ...(this.retryAfterSeconds !== undefined ? { retryAfterSeconds: this.retryAfterSeconds } : {}),
      ...(this.extensions ? { extensions: this.extensions } : {}),
    };
  }

  static fromJSON(e: SerializedAppError): AppError {
    return new AppError(e.status, e.code, e.detail, e.errors, e.retryAfterSeconds, e.extensions);
  }
}

/** What travels in an RPC reply: `{ ok: false, error }`. */
export interface SerializedAppError {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  retryAfterSeconds?: number;
  extensions?: ProblemExtensions;
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
]);

/** Errors that mean "a server we depend on is not answering" rather than "the code is wrong". */
export function isTransientInfrastructureError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  if (name === 'KnexTimeoutError') return true;
  return typeof message === 'string' && /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/.test(message);
}
