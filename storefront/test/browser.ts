import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';

const root = path.resolve(__dirname, '../..');
const storefront = path.join(root, 'storefront');
const dist = path.join(storefront, 'dist');

/** Debian's Chromium (scripts/ensure-chromium.mjs installs it when missing), or the one CHROMIUM_PATH names. */
export const chromiumPath = (): string => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Quiet, self-contained Chromium: nothing phones home (no component updates, sync, QUIC or background
 * fetches), no first-run UI, no GPU and no sandbox (tests run as root in a container).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Every action and wait gives up after this long, well inside a jest test's own timeout. */
export const WAIT_MS = 10_000;

export const RESERVED_SENTENCE = 'This listing is being checked out by someone else, please come back later';
/** The password of every user `BrowserMarket.user` makes. */
const PASSWORD = 'correct horse battery';

function newestMtime(dir: string, skip: Set<string>): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full, skip) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the storefront (storefront/build.mjs, on the Node running jest) when dist is missing or older than its sources. */
export function ensureStorefrontBuilt(): void {
  const sources = newestMtime(storefront, new Set(['dist', 'test', 'node_modules']));
  const built = existsSync(path.join(dist, 'app.js')) ? newestMtime(dist, new Set()) : 0;
  if (built >= sources) return;
  const build = spawnSync(process.execPath, [path.join(storefront, 'build.mjs')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (build.status !== 0) throw new Error(`storefront/build.mjs failed (${build.status ?? build.error?.message}):\n${build.stdout}\n${build.stderr}`);
}

export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  try {
    accessSync(executablePath, constants.X_OK);
  } catch {
    throw new Error(`No Chromium at ${executablePath}: run \`node scripts/ensure-chromium.mjs\` (npm test does) or set CHROMIUM_PATH.`);
  }
  // launch() gives the browser a fresh profile: Playwright passes --user-data-dir=<a new mkdtemp directory>
  // (it refuses one in args) and deletes that directory when the browser closes.
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

/** A person at a browser window: their own context (cookies, storage), one page, and who they are. */
export interface Visitor {
  context: BrowserContext;
  page: Page;
  session?: Session;
  email?: string;
}

/** A market stack serving the storefront, and a headless Chromium to visit it with. */
export interface BrowserMarket {
  stack: Stack;
  browser: Browser;
  api: ReturnType<typeof client>;
  /** A new browser context (a separate person), optionally signed in through the sign-in page. */
  visitor(opts?: { name?: string; signedIn?: boolean }): Promise<Visitor>;
  /** Opens a storefront route (`#/…`) in a page and waits for its heading. */
  open(page: Page, route: string): Promise<void>;
  close(): Promise<void>;
}

export async function startBrowserMarket(env: Record<string, string> = {}): Promise<BrowserMarket> {
  ensureStorefrontBuilt();
  // Every browser here is one client to the gateway (127.0.0.1): lift the per-client request limit and
  // the per-client cap on live update streams (4 by default: one per open page) above what a test opens.
  const stack = await startStack({ env: { RATE_LIMIT_MAX: '1000', SSE_MAX_PER_CLIENT: '50', ...env } });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    await stack.stop();
    throw err;
  }
  const api = client(stack);
  const contexts: BrowserContext[] = [];

  async function open(page: Page, route: string): Promise<void> {
    await page.goto(`${stack.url}/${route}`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
  }

  async function visitor({ name = 'Visitor', signedIn = true }: { name?: string; signedIn?: boolean } = {}): Promise<Visitor> {
    const context = await browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    context.setDefaultTimeout(WAIT_MS);
    const page = await context.newPage();
    // An exception the storefront did not catch is a bug worth seeing next to whichever assertion fails.
    page.on('pageerror', (err) => process.stderr.write(`[storefront page error, ${name}] ${err.stack ?? err.message}\n`));
    if (!signedIn) {
      await open(page, '#/');
      return { context, page };
    }
    const session = await api.signUp(name);
    await open(page, '#/signin');
    await page.getByLabel('Email', { exact: true }).fill(session.user.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return { context, page, session, email: session.user.email };
  }

  return {
    stack,
    browser,
    api,
    visitor,
    open,
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await stack.stop();
    },
  };
}

/** The trimmed text of the first element a locator finds, or null when there is none. */
export async function textOf(locator: Locator): Promise<string | null> {
  if ((await locator.count()) === 0) return null;
  return (await locator.first().innerText()).trim();
}

/**
 * Polls `read` until `ok` accepts its value (or WAIT_MS passes) and returns the last value read, for an
 * assertion that then shows what the page really said.
 */
export async function settle<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = WAIT_MS): Promise<T> {
  let last = await read();
  await eventually(async () => ok((last = await read())), timeoutMs, 100);
  return last;
}

/**
 * Presses these buttons (one per page) at the same moment. Each page clicks its button itself at one
 * agreed instant: Playwright's own clicks, started together, still reach the pages one actionability
 * check apart, time enough for the first buyer's hold to reach the other page live, hide its button,
 * and turn that click into a wait for the button to come back.
 */
export async function pressTogether(buttons: Locator[]): Promise<void> {
  await Promise.all(buttons.map((button) => button.waitFor()));
  const at = Date.now() + 300;
  await Promise.all(
    buttons.map((button) =>
      button.evaluate(
        (element, when) =>
          new Promise<void>((resolve) => {
            setTimeout(() => {
              element.click();
              resolve();
            }, when - Date.now());
          }),
        at,
      ),
    ),
  );
}

/** Marks the page's JavaScript world: the mark survives hash navigation and live updates, not a reload. */
export async function markPage(page: Page): Promise<void> {
  // Strings, not functions: this test code is compiled without the DOM's types.
  await page.evaluate('window.__noReload = true');
}

/** Waits until the page has a heading and nothing on it is loading (no `aria-busy="true"`). */
export async function loaded(page: Page): Promise<void> {
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  const busy = await settle(() => page.locator('[aria-busy="true"]').count(), (n) => n === 0);
  if (busy !== 0) throw new Error(`${page.url()} is still loading after ${WAIT_MS} ms`);
}

export const stillMarked = (page: Page): Promise<boolean> => page.evaluate<boolean>('window.__noReload === true');

/** The page's current route (`#/…`). */
export const hashOf = (page: Page): Promise<string> => page.evaluate<string>('location.hash');

/**
 * Waits until the page's route matches, and returns it. (Polled from here: the storefront's CSP forbids
 * eval, which `page.waitForFunction` with a string predicate would need, and the tests keep its CSP.)
 */
export async function waitForHash(page: Page, pattern: RegExp): Promise<string> {
  const hash = await settle(() => hashOf(page), (h) => pattern.test(h));
  if (!pattern.test(hash)) throw new Error(`${page.url()}: the route is ${hash || '(none)'}, not ${pattern}`);
  return hash;
}
