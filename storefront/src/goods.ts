// Attaching the goods to a listing: the text as JSON, the file as the raw request body.
import { api, path, request, type Goods } from './api';

/** The API's limit for one file (PUT /listings/{id}/goods/file). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_GOODS_TEXT = 10_000;

/**
 * `Content-Disposition` naming the file: a plain quoted name when it is simple ASCII, otherwise the
 * RFC 5987 `filename*` form, which carries any character exactly.
 */
export function contentDisposition(name: string): string {
  if (/^[\x20-\x7e]+$/.test(name) && !/["\\]/.test(name)) return `attachment; filename="${name}"`;
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename*=UTF-8''${encoded}`;
}

export function fileProblem(file: File): string | undefined {
  if (file.size === 0) return 'The goods file is empty.';
  if (file.size > MAX_FILE_BYTES) return 'The goods file is larger than 10 MB.';
  return undefined;
}

export async function putGoodsText(listingId: string, text: string): Promise<Goods> {
  return (await api.put<{ goods: Goods }>(`${path('listings', listingId)}/goods`, { text })).goods;
}

export async function putGoodsFile(listingId: string, file: File): Promise<Goods> {
  const reply = await request<{ goods: Goods }>('PUT', `${path('listings', listingId)}/goods/file`, {
    raw: { body: file, headers: { 'Content-Type': file.type || 'application/octet-stream', 'Content-Disposition': contentDisposition(file.name) } },
  });
  return reply.goods;
}

export async function getGoods(listingId: string): Promise<Goods> {
  return (await api.get<{ goods: Goods }>(`${path('listings', listingId)}/goods`)).goods;
}
