import express, { type Request, type RequestHandler } from 'express';
import { problem } from '../errors/catalogue';

/** What a JSON route reads: `application/json` and the RFC 6839 `+json` suffixes, any parameters. */
const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Content codings a body may arrive in: the two every HTTP client can send, decoded within a 32 kB
 * window. zstd is refused because a frame may ask for a window of up to 128 MB (the decoder's default
 * limit), reserved before the size limit sees any output; br because no client of this API needs it
 * and every decoder accepted is one more parser exposed to a stranger's bytes.
 */
const CODINGS = new Set(['identity', 'gzip', 'deflate']);

/** body-parser's error types that `problemHandler` already turns into problems (413, malformed JSON). */
const MAPPED_ELSEWHERE = new Set(['entity.parse.failed', 'entity.too.large']);

/**
 * `express.json` with the edges a client can get wrong made explicit:
 * - a body that is not JSON (another `Content-Type`, or none) is 415 `unsupported_media_type`,
 *   before anything is read; a request without a body (no length, `Content-Length: 0`) passes as before;
 * - an unsupported `Content-Encoding` is 400 `unsupported_encoding` (the contract's choice; RFC 9110
 *   §15.5.16 prefers 415) with `Accept-Encoding` naming the codings that are read; a body that does not decode as its coding says (a
 *   corrupt gzip) or does not match its length is 400 `invalid_body`, not a 500;
 * - JSON in another charset than UTF-8 (RFC 8259 §8.1) is 415 `unsupported_media_type`.
 * Over `limit` (counted after decoding) stays 413 and malformed JSON 400, as `problemHandler` maps them.
 */
export function readJsonBody({ limit }: { limit: string }): RequestHandler {
  const parse = express.json({ limit, type: JSON_TYPES });
  return (req, res, next) => {
    if (!declaresBody(req)) return next();
    if (!req.is(JSON_TYPES)) return next(problem('unsupported_media_type', 'notJson'));
    const coding = req.get('content-encoding')?.trim().toLowerCase() || 'identity';
    if (!CODINGS.has(coding)) {
      res.set('Accept-Encoding', 'gzip, deflate');
      return next(problem('unsupported_encoding', 'json'));
    }
    parse(req, res, (err?: unknown) => next(err === undefined ? undefined : asBodyProblem(err)));
  };
}

/** A length of 0 is no body; chunked transfer counts as one (its size is unknown until read). */
function declaresBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

function asBodyProblem(err: unknown): unknown {
  const { type, status } = err as { type?: unknown; status?: unknown };
  if (typeof type === 'string' && MAPPED_ELSEWHERE.has(type)) return err;
  if (type === 'charset.unsupported') return problem('unsupported_media_type', 'charset');
  // What is left from body-parser with a 4xx is the client's bytes: a stream that does not inflate,
  // a length that does not match, an upload cut short. Anything else is ours and stays a 500.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return problem('invalid_body', 'encoding');
  }
  return err;
}
