import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Router } from 'express';

const SWAGGER_UI_DIR = path.dirname(createRequire(__filename).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>market API</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

// A file, not an inline script, so the page works under helmet's default Content-Security-Policy.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });`;

// Swagger UI loads its own scripts and styles (it sets some styles inline) and data: images; nothing else.
const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'";

/** `/openapi.json` and a browsable page at `/docs`, served from the swagger-ui-dist package (no CDN). */
export function docsRouter(document: unknown): Router {
  const router = express.Router();
  const json = JSON.stringify(document);
  router.get('/openapi.json', (_req, res) => void res.type('application/json').send(json));
  router.get('/docs', (_req, res) => {
    res.set('Content-Security-Policy', DOCS_CSP);
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => void res.type('application/javascript').send(INIT));
  router.use('/docs/assets', express.static(SWAGGER_UI_DIR, { index: false, maxAge: '1h' }));
  return router;
}
