import type { RequestContext } from '../logger/context';

export const HEADER_REQUEST_ID = 'x-request-id';
export const HEADER_TRACEPARENT = 'traceparent';

/** The AMQP headers that carry a request's id and trace to whoever handles the message. */
export function contextHeaders(ctx: { requestId?: string | null; traceparent?: string | null } | undefined): Record<string, string> {
  return {
    ...(ctx?.requestId ? { [HEADER_REQUEST_ID]: ctx.requestId } : {}),
    ...(ctx?.traceparent ? { [HEADER_TRACEPARENT]: ctx.traceparent } : {}),
  };
}

/** The request context a message was sent under; `fallbackRequestId` when it carries none. */
export function contextFromHeaders(headers: Record<string, unknown> | undefined, fallbackRequestId: string): RequestContext {
  const requestId = headers?.[HEADER_REQUEST_ID];
  const traceparent = headers?.[HEADER_TRACEPARENT];
  return { requestId: typeof requestId === 'string' ? requestId : fallbackRequestId, ...(typeof traceparent === 'string' ? { traceparent } : {}) };
}
