import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { type BrowserMarket, hashOf, loaded, markPage, settle, startBrowserMarket, stillMarked, textOf, type Visitor, waitForHash } from './browser';

let market: BrowserMarket;
let seller: Visitor;
let buyer: Visitor;
let other: Visitor;
/** Someone who opened the browse list and the listing page before the sale, and never reloads them. */
let watcher: { browse: Page; listing: Page };

// What the seller lists, and what only the buyer may get back.
const title = `Festival pass ${randomBytes(3).toString('hex')}`;
const goodsText = 'Gate B, row 7, seat 12\nDoor code: 4711';
const fileName = 'festival-pass.bin';
// Above the 100 kB JSON body limit: the goods file goes through its own raw route.
const fileBytes = randomBytes(200 * 1024);
let listingId: string;
let orderId: string;

beforeAll(async () => {
  market = await startBrowserMarket();
  [seller, buyer, other] = await Promise.all([market.visitor({ name: 'Sally Seller' }), market.visitor({ name: 'Bea Buyer' }), market.visitor({ name: 'Otto Other' })]);
}, 90_000);
afterAll(async () => {
  await market?.close();
}, 30_000);

const buyButton = (page: Page) => page.getByRole('button', { name: 'Buy', exact: true });
const downloadLinks = (page: Page) => page.locator('a[href*="/downloads/"]');
/** The browse list's entry for a listing title, and its status badge. */
const badgeOf = (page: Page, listingTitle: string) =>
  page.getByRole('list', { name: 'Listings' }).getByRole('listitem').filter({ has: page.getByRole('link', { name: listingTitle, exact: true }) }).locator('[data-status]');
const badge = async (page: Page, listingTitle: string) => ({ text: await textOf(badgeOf(page, listingTitle)), status: await badgeOf(page, listingTitle).first().getAttribute('data-status').catch(() => null) });

test('a seller lists goods through the Sell page: the listing, its text and its file are stored as entered', async () => {
  const { page } = seller;
  await market.open(page, '#/sell');
  await page.getByRole('heading', { level: 1, name: 'Sell' }).waitFor();
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByLabel('Description', { exact: true }).fill('Three days, all stages.');
  await page.getByLabel('Price', { exact: true }).fill('12.50');
  await page.getByLabel('Currency', { exact: true }).selectOption('usd');
  await page.getByLabel('Goods text', { exact: true }).fill(goodsText);
  await page.getByLabel('Goods file', { exact: true }).setInputFiles({ name: fileName, mimeType: 'application/octet-stream', buffer: fileBytes });
  await page.getByRole('button', { name: 'Create listing', exact: true }).click();

  await waitForHash(page, /^#\/listings\/[0-9a-f-]{36}$/);
  listingId = (await hashOf(page)).slice('#/listings/'.length);
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  expect(await settle(() => textOf(page.getByTestId('listing-status')), (t) => t === 'Available')).toBe('Available');
  // The seller does not buy their own listing.
  expect(await buyButton(page).count()).toBe(0);

  const stored = await market.api.get(`/listings/${listingId}`);
  expect(stored.body.listing).toMatchObject({ title, priceCents: 1250, currency: 'usd', status: 'available' });
  const goods = await market.api.get(`/listings/${listingId}/goods`, seller.session?.accessToken);
  expect(goods.status).toBe(200);
  expect(goods.body.goods).toMatchObject({ text: goodsText, file: { name: fileName, size: fileBytes.length } });

  // A watcher opens the listing in the list and on its own page, before anyone buys it.
  const walt = await market.visitor({ name: 'Walt Watcher', signedIn: false });
  watcher = { browse: walt.page, listing: await walt.context.newPage() };
  expect(await settle(() => badge(watcher.browse, title), (b) => b.text === 'Available')).toEqual({ text: 'Available', status: 'available' });
  await market.open(watcher.listing, `#/listings/${listingId}`);
  await buyButton(watcher.listing).waitFor();
  await markPage(watcher.browse);
  await markPage(watcher.listing);
});

test('a buyer pays with the sandbox test card, lands on the order and gets the goods: the text, and a download identical to the upload', async () => {
  const { page } = buyer;
  await market.open(page, `#/listings/${listingId}`);
  await buyButton(page).click();
  await waitForHash(page, /^#\/checkout\/[0-9a-f-]{36}$/);
  orderId = (await hashOf(page)).slice('#/checkout/'.length);
  await page.getByRole('heading', { level: 1, name: 'Checkout' }).waitFor();
  const countdown = page.getByRole('timer', { name: 'Time left to pay' });
  await countdown.waitFor();
  expect(await textOf(countdown)).toMatch(/^1[45]:\d\d$/);
  await page.getByLabel('Test card', { exact: true }).selectOption('pm_card_visa');
  await page.getByRole('button', { name: 'Pay', exact: true }).click();

  await waitForHash(page, new RegExp(`^#/orders/${orderId}$`));
  await page.getByRole('heading', { level: 1, name: 'Order' }).waitFor();
  expect(await settle(() => textOf(page.getByTestId('order-status')), (t) => t === 'complete')).toBe('complete');
  await page.getByRole('heading', { name: 'Your goods' }).waitFor();
  expect(await settle(() => textOf(page.getByTestId('goods-text')), (t) => t === goodsText)).toBe(goodsText);

  const link = page.getByRole('link', { name: `Download ${fileName}`, exact: true });
  await link.waitFor();
  expect(await link.getAttribute('href')).toMatch(/\/downloads\/[^/]+$/);
  expect(await link.getAttribute('download')).not.toBeNull();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toBe(fileName);
  const received = await readFile(await download.path());
  expect(received.length).toBe(fileBytes.length);
  expect(received.equals(fileBytes)).toBe(true);
});

test('a sold listing shows Sold on the browse list and the listing page of a window opened before the sale, without a reload', async () => {
  expect(await settle(() => badge(watcher.browse, title), (b) => b.text === 'Sold')).toEqual({ text: 'Sold', status: 'sold' });
  expect(await settle(() => textOf(watcher.listing.getByTestId('listing-status')), (t) => t === 'Sold')).toBe('Sold');
  expect(await buyButton(watcher.listing).count()).toBe(0);
  expect(await stillMarked(watcher.browse)).toBe(true);
  expect(await stillMarked(watcher.listing)).toBe(true);
  // The buyer's and the seller's own windows say so too.
  for (const page of [buyer.page, seller.page]) {
    await market.open(page, `#/listings/${listingId}`);
    expect(await settle(() => textOf(page.getByTestId('listing-status')), (t) => t === 'Sold')).toBe('Sold');
    expect(await buyButton(page).count()).toBe(0);
  }
});

test('another signed-in user cannot get the goods or a link to them, through the API or any page', async () => {
  const { page } = other;
  const signIn = await page.request.post('/signin', { data: { email: other.email, password: 'correct horse battery' } });
  expect(signIn.status()).toBe(200);
  const headers = { authorization: `Bearer ${(await signIn.json()).accessToken}` };
  for (const path of [`/orders/${orderId}/goods`, `/orders/${orderId}`]) {
    const res = await page.request.get(path, { headers });
    expect({ path, status: res.status() }).toEqual({ path, status: 404 });
    expect(await res.text()).not.toMatch(/downloads|Door code/);
  }
  const sellersGoods = await page.request.get(`/listings/${listingId}/goods`, { headers });
  expect([403, 404]).toContain(sellersGoods.status());
  expect(await sellersGoods.text()).not.toMatch(/downloads|Door code/);

  // The order page answers with the API's problem, and shows nothing of the goods.
  await market.open(page, `#/orders/${orderId}`);
  await page.getByRole('alert').first().waitFor();
  await loaded(page);
  for (const route of [`#/orders/${orderId}`, '#/orders', `#/listings/${listingId}`]) {
    if (route !== `#/orders/${orderId}`) {
      await market.open(page, route);
      await loaded(page);
    }
    expect({ route, links: await downloadLinks(page).count() }).toEqual({ route, links: 0 });
    expect({ route, goods: await page.getByTestId('goods-text').count() }).toEqual({ route, goods: 0 });
    expect({ route, text: (await page.locator('body').innerText()).includes('Door code') }).toEqual({ route, text: false });
    if (route === '#/orders') expect(await page.locator(`a[href$="#/orders/${orderId}"]`).count()).toBe(0);
  }
});
