import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Response, type Router } from 'express';
import { problem, sendProblem } from '@market/common';

/**
 * The built storefront (`npm run build` writes it): storefront/dist beside api-gateway, the same three
 * levels up from src/http (tests, ts-node) and dist/http (`npm start`, the Docker image's /app).
 */
export const STOREFRONT_DIR = path.resolve(__dirname, '../../../storefront/dist');

/** The storefront's own files: one level, a known kind. Anything else (every API path) is not looked up on disk. */
const ASSET = /^\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?:js|css|map|html|svg|png|webp|ico|woff2|txt)$/;

// Stripe.js, its Payment Element and 3-D Secure frames, and its API, as Stripe's security guide lists them
// (https://docs.stripe.com/security/guide#content-security-policy): only where a publishable key makes the page use them.
const STRIPE = {
  script: ['https://js.stripe.com', 'https://*.js.stripe.com'],
  frame: ['https://js.stripe.com', 'https://*.js.stripe.com', 'https://hooks.stripe.com'],
  connect: ['https://api.stripe.com'],
};

/**
 * The page's policy: its own scripts, styles and API only (no inline script or style at all), never
 * framed. Stripe's origins are added only when a publishable key is configured.
 */
export function storefrontCsp(stripe: boolean): string {
  const extra = (origins: string[]) => (stripe ? ` ${origins.join(' ')}` : '');
  return [
    "default-src 'self'",
    `script-src 'self'${extra(STRIPE.script)}`,
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${extra(STRIPE.connect)}`,
    ...(stripe ? [`frame-src${extra(STRIPE.frame)}`] : []),
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

export interface StorefrontOptions {
  /** Whether a Stripe publishable key is configured (the page then loads Stripe.js). */
  stripe: boolean;
  /** Where the built files are; STOREFRONT_DIR unless a test says otherwise. */
  dir?: string;
}

/**
 * `GET /` and the storefront's files, before authentication and the rate limiter: static files are not
 * API calls. Revalidated on every load (`no-cache` with ETags), so a new build shows at the next reload.
 * Without a build, `GET /` is a 503 problem saying how to make one; the API is unaffected.
 */
export function storefrontRouter({ stripe, dir = STOREFRONT_DIR }: StorefrontOptions): Router {
  const csp = storefrontCsp(stripe);
  const setHeaders = (res: Response) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', csp);
  };
  const files = express.static(dir, { index: false, etag: true, lastModified: true, cacheControl: false, redirect: false, dotfiles: 'ignore', setHeaders });
  const router = express.Router();
  router.get('/', (req, res, next) => {
    if (!existsSync(path.join(dir, 'index.html'))) {
      sendProblem(res, problem('storefront_not_built'));
      return;
    }
    // Served like the other files (res.sendFile would follow the app's `etag` setting, off for the API).
    req.url = '/index.html';
    files(req, res, next);
  });
  router.get(ASSET, files);
  return router;
}
