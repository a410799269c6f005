#!/usr/bin/env node
// Saves docs/storefront.png, the picture at the top of the README: the browse page of a running,
// seeded market (SEED_URL, default http://localhost:8080; `npm start`, then `npm run seed`) at
// 1280x800, in Debian's Chromium driven by playwright-core.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ensureChromium } from './ensure-chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BASE = (process.env.SEED_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
const OUT = join(root, 'docs', 'storefront.png');
// The same quiet Chromium the browser tests use (storefront/test/browser.ts).
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const browser = await chromium.launch({ executablePath: ensureChromium(), args: ARGS, headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${BASE}/#/`);
  const listings = page.getByRole('list', { name: 'Listings' }).getByRole('listitem');
  await listings.first().waitFor({ timeout: 15_000 });
  await page.waitForFunction(`!document.querySelector('[aria-busy="true"]')`, undefined, { timeout: 15_000 });
  // Fonts and images finish loading before the picture is taken.
  await page.evaluate('document.fonts.ready');
  mkdirSync(dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`Saved ${OUT} (${await listings.count()} listings on the page).`);
} finally {
  await browser.close();
}
