/**
 * Headers for every response that carries tokens: no cache (browser, proxy, CDN) may keep a copy
 * (RFC 6749 §5.1 asks for both; `Pragma` is for HTTP/1.0 caches that ignore `Cache-Control`).
 */
export const TOKEN_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
