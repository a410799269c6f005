import winston from 'winston';
import { currentContext } from './context';

export type Logger = winston.Logger;
export * from './context';

/** Adds the request id and trace id of the current request (if any) to every line. */
const requestContext = winston.format((info) => {
  const ctx = currentContext();
  if (ctx) {
    info.requestId ??= ctx.requestId;
    if (ctx.traceparent) info.traceId ??= ctx.traceparent.split('-')[1];
  }
  return info;
});

/** One JSON line per event, with `service`, `level` and (inside a request) `requestId`. */
export function createLogger(service: string, level = 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(requestContext(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error'] })],
  });
}
