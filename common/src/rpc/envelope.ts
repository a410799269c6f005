import { z } from 'zod';
import { ROLES } from '../auth';
import { AppError, type SerializedAppError } from '../errors';
import { quorumQueue } from '../messaging/queues';

/**
 * The request body. Who the request is for travels in one of two ways, never as a bare claim:
 * - `token`: the end user's access token as the client sent it; the serving service verifies it itself;
 * - `onBehalfOf`: the person a backend service acts for in a service-only method (orders reserving a
 *   listing for its buyer, payments completing the buyer's order). Accepted only from a backend service
 *   the method allows, never from the gateway, which must forward the token instead.
 * The message itself is signed by the calling service (see ServiceIdentity).
 */
export const requestEnvelopeSchema = z.object({
  payload: z.unknown(),
  token: z.string().max(4096).nullish(),
  onBehalfOf: z.object({ id: z.uuid(), role: z.enum(ROLES) }).nullish(),
});
export type RequestEnvelope = z.infer<typeof requestEnvelopeSchema>;

export type ReplyEnvelope = { ok: true; result: unknown } | { ok: false; error: SerializedAppError };

/**
 * The largest request or reply body sent or read, in bytes. RabbitMQ 4 refuses messages over 16 MiB
 * (`max_message_size`) by closing the publishing channel, which would fail every call waiting on it; a
 * 10 MB goods file travels as ~13.4 MB of base64 in JSON, so 15 MiB carries it with room to spare.
 */
export const MAX_RPC_MESSAGE_BYTES = 15 * 1024 * 1024;

/** Absolute deadline (ms since epoch); a server skips a request whose caller has given up. */
export const HEADER_DEADLINE = 'x-deadline';
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * What a request's signature covers besides its body: what is asked, under which correlation id, until
 * when. Not the reply-to: the broker rewrites direct reply-to per delivery; the server instead answers
 * only to a direct reply-to address, never to a queue a message names.
 */
export const requestFacts = (method: string, correlationId: string, deadline: number | string): string[] => ['rpc-request', method, correlationId, String(deadline)];
export const replyFacts = (correlationId: string): string[] => ['rpc-reply', correlationId];

/** `listings.create` is served from the (quorum) queue of the `listings` service. */
export function rpcQueue(prefix: string, method: string): string {
  const service = method.split('.')[0];
  if (!service || !method.includes('.')) throw new Error(`RPC method names look like service.action, got ${method}`);
  return quorumQueue(`${prefix}.rpc.${service}`);
}

export function replyError(reply: ReplyEnvelope): AppError | undefined {
  return reply.ok ? undefined : AppError.fromJSON(reply.error);
}

/**
 * A method's contract, typed as that method's own. A lookup generic over any map: indexed by a key of
 * an `RpcContractMap` (a record), TypeScript would type it `| undefined` and lose which method it is.
 */
export function contractOf<C, M extends keyof C>(contracts: C, method: M): C[M] {
  return contracts[method];
}
