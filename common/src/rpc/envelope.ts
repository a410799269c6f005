import { z } from 'zod';
import { ROLES } from '../auth';
import { AppError, type SerializedAppError } from '../errors';
import type { RequestContext } from '../logger/context';

/** The request body: the verified identity travels here, set by the caller's code, never by a client. */
export const requestEnvelopeSchema = z.object({
  payload: z.unknown(),
  actor: z.object({ id: z.uuid(), role: z.enum(ROLES) }).nullable(),
});
export type RequestEnvelope = z.infer<typeof requestEnvelopeSchema>;

export type ReplyEnvelope = { ok: true; result: unknown } | { ok: false; error: SerializedAppError };

export const HEADER_REQUEST_ID = 'x-request-id';
export const HEADER_TRACEPARENT = 'traceparent';
/** Absolute deadline (ms since epoch); a server skips a request whose caller has given up. */
export const HEADER_DEADLINE = 'x-deadline';

/** `listings.create` is served from the queue of the `listings` service. */
export function rpcQueue(prefix: string, method: string): string {
  const service = method.split('.')[0];
  if (!service || !method.includes('.')) throw new Error(`RPC method names look like service.action, got ${method}`);
  return `${prefix}.rpc.${service}`;
}

export function replyError(reply: ReplyEnvelope): AppError | undefined {
  return reply.ok ? undefined : AppError.fromJSON(reply.error);
}

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
