// Baseline A — the least a cached read can cost: bare Express 5 and one ioredis GET of a JSON
// string that is already stored, sent back as is. It is what the gateway's cache hit would be with
// no middleware at all (no helmet, request id, metrics, JWT check, rate limit, validation, cache
// generations). It is a fair floor because it uses the same framework, the same Redis client and the
// same Redis server, and answers with byte-for-byte the body the gateway answers (bench/run.mjs
// stores the gateway's own response bodies under these keys).
//
//   GET /listings/:id       → GET <prefix>:listing:<id>
//   GET /listings?limit&offset → GET <prefix>:listings:l<limit>o<offset>
//
// Env: PORT, REDIS_URL, BASELINE_KEY_PREFIX (default bench-baseline).
import express from 'express';
import { Redis } from 'ioredis';
import { serve } from './serve.mjs';

const port = Number(process.env.PORT ?? 18091);
const prefix = process.env.BASELINE_KEY_PREFIX ?? 'bench-baseline';
const redis = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379');

async function sendStored(res, key) {
  const body = await redis.get(key);
  if (body === null) return void res.status(404).json({ status: 404, code: 'not_found' });
  res.type('application/json; charset=utf-8').send(body);
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/readyz', async (_req, res) => void res.json({ status: (await redis.ping()) === 'PONG' ? 'ready' : 'not_ready' }));
app.get('/listings/:id', (req, res) => sendStored(res, `${prefix}:listing:${req.params.id}`));
app.get('/listings', (req, res) => sendStored(res, `${prefix}:listings:l${req.query.limit ?? 20}o${req.query.offset ?? 0}`));

serve('redis-read baseline', app, port, () => redis.quit());
