import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithContext } from '../logger/context';
import type { Logger } from '../logger';
import { httpDuration } from '../metrics';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Echoes a well-formed client `X-Request-Id` (or makes one), continues or starts a W3C trace, and
 * runs the rest of the request inside that context so every log line and outgoing hop carries it.
 */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const supplied = req.get('x-request-id');
    const requestId = supplied && CLIENT_REQUEST_ID.test(supplied) ? supplied : randomUUID();
    const traceparent = childTraceparent(req.get('traceparent'));
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('traceparent', traceparent);
    runWithContext({ requestId, traceparent }, () => next());
  };
}

/** Keeps the caller's trace id (when valid) and gives this hop its own span id. */
export function childTraceparent(incoming: string | undefined): string {
  const match = incoming ? TRACEPARENT.exec(incoming) : null;
  // randomUUID draws from a cached pool of random bytes; randomBytes makes a system call each time.
  const traceId = match?.[1] && !/^0+$/.test(match[1]) ? match[1] : randomUUID().replaceAll('-', '');
  const flags = match?.[3] ?? '01';
  return `00-${traceId}-${randomUUID().replaceAll('-', '').slice(0, 16)}-${flags}`;
}

/**
 * Latency by route template (`/listings/:id`, never the raw path, so ids don't explode the label
 * set), and one access-log line per request at the `http` level (on with LOG_LEVEL=http).
 */
export function httpObservability(service: string, logger: Logger): RequestHandler {
  // winston formats a line before its transports drop it by level: decide once, not per request.
  const accessLog = logger.isLevelEnabled('http');
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      httpDuration.observe({ service, method: req.method, route, status: String(res.statusCode) }, seconds);
      if (accessLog) logger.http('request', { method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) });
    });
    next();
  };
}
