// Baseline B (HTTP side) — the least an HTTP → RabbitMQ request/reply → MySQL hop can cost:
// bare Express 5 and amqplib with the same RPC technique the project uses (one connection with
// noDelay, one channel, direct reply-to, a UUID correlation id per call, `expiration` = timeout,
// a JSON request and an `{ ok, result }` JSON reply), to a tiny responder (rpc-responder.mjs) that
// does one primary-key read or one conditional UPDATE with mysql2. No middleware, no validation, no
// envelope schema, no metrics, no auth. Fair because the broker, the database, the framework and
// the wire protocol are the same as the project's; only the project's own layers are missing.
//
//   GET  /listings/:id  → rpc get     → SELECT … WHERE id = ?
//   POST /orders        → rpc reserve → UPDATE … SET status='reserved' WHERE id = ? AND status='available'
//
// Env: PORT, RABBITMQ_URL, BASELINE_QUEUE (default bench-baseline.rpc), RPC_TIMEOUT_MS.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import express from 'express';
import { serve } from './serve.mjs';

const port = Number(process.env.PORT ?? 18092);
const queue = process.env.BASELINE_QUEUE ?? 'bench-baseline.rpc';
const timeoutMs = Number(process.env.RPC_TIMEOUT_MS ?? 5000);
const REPLY_TO = 'amq.rabbitmq.reply-to';

const connection = await amqp.connect(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672', { noDelay: true });
const channel = await connection.createChannel();
const pending = new Map();

await channel.consume(
  REPLY_TO,
  (msg) => {
    const call = msg && pending.get(msg.properties.correlationId);
    if (!call) return;
    pending.delete(msg.properties.correlationId);
    clearTimeout(call.timer);
    call.resolve(JSON.parse(msg.content.toString('utf8')));
  },
  { noAck: true },
);

/** One request/reply; resolves with the `{ ok, result | error }` reply. */
function call(type, payload) {
  const correlationId = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(correlationId);
      reject(new Error('rpc timeout'));
    }, timeoutMs);
    pending.set(correlationId, { resolve, timer });
    channel.publish('', queue, Buffer.from(JSON.stringify({ payload })), {
      correlationId,
      replyTo: REPLY_TO,
      type,
      contentType: 'application/json',
      expiration: String(timeoutMs),
    });
  });
}

function send(res, successStatus, reply) {
  if (reply.ok) res.status(successStatus).json(reply.result);
  else res.status(reply.error.status).json(reply.error);
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/readyz', async (_req, res) => send(res, 200, await call('ping', {})));
app.get('/listings/:id', async (req, res) => send(res, 200, await call('get', { id: req.params.id })));
app.post('/orders', express.json({ limit: '100kb' }), async (req, res) => send(res, 201, await call('reserve', { id: req.body.listingId })));

serve('rpc-read baseline', app, port, () => connection.close());
