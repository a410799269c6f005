import { z } from 'zod';
import { contracts, problem } from '@market/common';
import type { RouteDeps } from './deps';
import { type AnyRoute, defineRoute } from './route';

/** The goods are secrets of the seller and the buyer: never cached, by anyone (and never in the gateway's read cache). */
const NO_STORE = { 'Cache-Control': 'no-store' };
const MAX_MB = contracts.GOODS_FILE_MAX_BYTES / (1024 * 1024);
/**
 * Files on their way between a client and the services at once. Each is held a few times over (the
 * bytes, their base64, the RPC message: ~50 MB for 10 MB); this bounds the gateway's memory for them.
 */
const MAX_FILE_TRANSFERS = 8;

/** The uploaded file's name (from Content-Disposition) and type (Content-Type, application/octet-stream when none is sent). */
const uploadHeaders = z.object({
  'content-disposition': z
    .string({ message: 'is required: attachment; filename="…"' })
    .max(2000, 'must be at most 2000 characters')
    .transform((header, ctx) => {
      const name = fileNameIn(header);
      if (name === undefined) ctx.addIssue({ code: 'custom', message: 'must be attachment; filename="…" (or filename*=UTF-8\'\'…)' });
      return name ?? '';
    })
    .pipe(contracts.goodsFileName)
    .meta({ description: 'The file\'s name: `attachment; filename="ticket.pdf"`, or `attachment; filename*=UTF-8\'\'%E2%82%AC%20rates.pdf` for any name (RFC 6266, RFC 5987)' }),
  'content-type': contracts.mediaType.default(contracts.DEFAULT_MEDIA_TYPE),
});

export function goodsRoutes({ rpc }: RouteDeps): AnyRoute[] {
  let transfers = 0;
  async function transferring<T>(work: () => Promise<T>): Promise<T> {
    if (transfers >= MAX_FILE_TRANSFERS) throw problem('too_many_transfers');
    transfers++;
    try {
      return await work();
    } finally {
      transfers--;
    }
  }

  return [
    defineRoute({
      method: 'put', path: '/listings/:id/goods', operationId: 'putListingGoodsText', tag: 'listings', access: 'signed-in',
      summary: 'Attach the goods text (a ticket code, a licence key, a link) to a listing (seller only, until it is sold)',
      params: contracts.idParams,
      body: contracts.putGoodsTextBody,
      success: { status: 200, description: 'The goods now attached (the file, if any, stays)', schema: contracts.goodsReply },
      problems: [403, 404, 409],
      handle: async ({ token, params, body }) => ({
        status: 200,
        json: await rpc.call('listings.putGoodsText', { id: params.id, text: body.text }, { token }),
        headers: NO_STORE,
      }),
    }),
    defineRoute({
      method: 'put', path: '/listings/:id/goods/file', operationId: 'putListingGoodsFile', tag: 'listings', access: 'signed-in',
      summary: `Attach the goods file (up to ${MAX_MB} MB) to a listing (seller only, until it is sold)`,
      params: contracts.idParams,
      headers: uploadHeaders,
      rawBody: {
        maxBytes: contracts.GOODS_FILE_MAX_BYTES,
        description:
          `The file itself as the body, 1 byte to ${MAX_MB} MB, with its own \`Content-Type\` (any media type; \`application/octet-stream\` when none is sent) and no \`Content-Encoding\`. ` +
          'Its name (1..255 characters, no `/` or `\\`) in `Content-Disposition`. A new file replaces the previous one; the text, if any, stays.',
      },
      success: { status: 200, description: 'The goods now attached', schema: contracts.goodsReply },
      problems: [403, 404, 409, 413],
      handle: async ({ token, params, headers, readRawBody }) => {
        const { 'content-disposition': name, 'content-type': contentType } = headers;
        // Read before taking a transfer slot: a slow client must not hold one while it sends.
        const bytes = await readRawBody!();
        if (bytes.length === 0) throw problem('empty_file');
        return transferring(async () => {
          const reply = await rpc.call('listings.putGoodsFile', { id: params.id, name, contentType, contentBase64: bytes.toString('base64') }, { token });
          return { status: 200, json: reply, headers: NO_STORE };
        });
      },
    }),
    defineRoute({
      method: 'get', path: '/listings/:id/goods', operationId: 'getListingGoods', tag: 'listings', access: 'signed-in',
      summary: "The goods attached to a listing (its seller only; `{}` when none)",
      params: contracts.idParams,
      success: { status: 200, description: 'What is attached: the text and what the file is', schema: contracts.goodsReply },
      problems: [403, 404],
      handle: async ({ token, params }) => ({ status: 200, json: await rpc.call('listings.getGoods', { id: params.id }, { token }), headers: NO_STORE }),
    }),
    defineRoute({
      method: 'get', path: '/orders/:id/goods', operationId: 'getOrderGoods', tag: 'orders', access: 'signed-in',
      summary: 'The goods of a complete order (its buyer only): the text, and a fresh signed link to the file',
      params: contracts.idParams,
      success: {
        status: 200,
        description: 'The goods. `file.url` works a few times (`DOWNLOAD_LINK_MAX_USES`) until `file.expiresAt` (`DOWNLOAD_LINK_TTL_SECONDS`); ask again for a new one',
        schema: contracts.orderGoodsReply,
      },
      problems: [404, 409],
      handle: async ({ token, params }) => ({ status: 200, json: await rpc.call('orders.goods', { id: params.id }, { token }), headers: NO_STORE }),
    }),
    defineRoute({
      method: 'get', path: '/downloads/:token', operationId: 'downloadGoodsFile', tag: 'orders', access: 'anyone',
      summary: 'Download the file of a complete order through its signed link (whoever holds the link; each download uses it once)',
      params: contracts.downloadParams,
      pathIsSecret: true,
      success: { status: 200, description: 'The file, with its name and type', file: true },
      problems: [410],
      handle: async ({ params, req }) => {
        if (req.method === 'HEAD') {
          req.res?.set('Allow', 'GET');
          throw problem('method_not_allowed');
        }
        return transferring(async () => {
          const file = await rpc.call('orders.download', { token: params.token }, {});
          const bytes = Buffer.from(file.contentBase64, 'base64');
          return {
            status: 200,
            raw: { body: bytes, contentType: file.contentType },
            headers: {
              ...NO_STORE,
              'Content-Disposition': attachment(file.name),
              'Content-Length': String(bytes.length),
              'X-Content-Type-Options': 'nosniff',
              // Whatever the file claims to be (text/html, say), it is never a page of this origin.
              'Content-Security-Policy': "default-src 'none'; sandbox",
            },
          };
        });
      },
    }),
  ];
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const DISPOSITION_TYPE = new RegExp(`\\s*(${TOKEN})\\s*`, 'y');
const PARAMETER = new RegExp(`;\\s*(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(${TOKEN}))\\s*`, 'y');
const EXT_VALUE = /^(UTF-8|ISO-8859-1)'[A-Za-z0-9-]*'((?:[!#$&+.^_`|~0-9A-Za-z-]|%[0-9A-Fa-f]{2})+)$/i;

/**
 * The file name of `attachment; filename="…"` (RFC 6266), preferring `filename*=UTF-8''…` (RFC 5987,
 * percent-encoded UTF-8 or ISO-8859-1) when both are sent; undefined for anything else.
 */
export function fileNameIn(header: string): string | undefined {
  DISPOSITION_TYPE.lastIndex = 0;
  const type = DISPOSITION_TYPE.exec(header);
  if (!type || type[1]?.toLowerCase() !== 'attachment') return undefined;
  const params = new Map<string, string>();
  let at = DISPOSITION_TYPE.lastIndex;
  while (at < header.length) {
    if (/^;\s*$/.test(header.slice(at))) break;
    PARAMETER.lastIndex = at;
    const param = PARAMETER.exec(header);
    if (!param) return undefined;
    const name = (param[1] ?? '').toLowerCase();
    if (params.has(name)) return undefined;
    params.set(name, param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? ''));
    at = PARAMETER.lastIndex;
  }
  const extended = params.get('filename*');
  if (extended !== undefined) {
    const ext = EXT_VALUE.exec(extended);
    if (!ext) return undefined;
    const charset = ext[1] ?? '';
    const encoded = ext[2] ?? '';
    if (charset.toUpperCase() === 'ISO-8859-1') return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    try {
      return decodeURIComponent(encoded);
    } catch {
      return undefined;
    }
  }
  return params.get('filename');
}

/** `Content-Disposition` of a download: the name as it was given (RFC 6266), with an ASCII stand-in for older clients. */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  if (ascii === name) return `attachment; filename="${name}"`;
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
