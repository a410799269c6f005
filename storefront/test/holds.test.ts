import type { Page } from 'playwright-core';
import { type BrowserMarket, hashOf, markPage, pressTogether, RESERVED_SENTENCE, settle, startBrowserMarket, stillMarked, textOf, type Visitor } from './browser';

// Short enough for the hold to end inside the test, long enough for a busy machine to show both windows first.
const TTL_SECONDS = 8;

let market: BrowserMarket;

beforeAll(async () => {
  market = await startBrowserMarket({ ORDER_TTL_SECONDS: String(TTL_SECONDS) });
}, 90_000);
afterAll(async () => {
  await market?.close();
}, 30_000);

const buyButton = (page: Page) => page.getByRole('button', { name: 'Buy', exact: true });
const countdown = (page: Page) => page.getByRole('timer', { name: 'Time left to pay' });
const toldSomeoneElse = (page: Page) => page.getByText(RESERVED_SENTENCE, { exact: true });

/** What one buyer's window shows after pressing Buy. */
async function outcome(visitor: Visitor) {
  return {
    countdown: await countdown(visitor.page).isVisible(),
    told: (await toldSomeoneElse(visitor.page).count()) > 0 && (await toldSomeoneElse(visitor.page).first().isVisible()),
  };
}

test('two buyers press Buy at the same moment: one gets the countdown, the other is told someone else is checking out; when the hold ends, Buy comes back in the other window without a reload', async () => {
  const seller = await market.api.signUp('Seller');
  const listing = await market.api.createSettledListing(seller.accessToken, { title: `Front row seat ${Date.now()}`, priceCents: 4200 });
  const buyers = await Promise.all([market.visitor({ name: 'Ann' }), market.visitor({ name: 'Bob' })]);
  for (const buyer of buyers) {
    await market.open(buyer.page, `#/listings/${listing.id}`);
    await buyButton(buyer.page).waitFor();
    await markPage(buyer.page);
  }

  await pressTogether(buyers.map((buyer) => buyButton(buyer.page)));

  const seen = await settle(
    () => Promise.all(buyers.map(outcome)),
    ([a, b]) => !!a && !!b && a.countdown !== b.countdown && (a.countdown ? b.told : a.told),
  );
  expect(seen.filter((s) => s.countdown)).toHaveLength(1);
  const winner = buyers[seen.findIndex((s) => s.countdown)] as Visitor;
  const loser = buyers[seen.findIndex((s) => !s.countdown)] as Visitor;
  expect(seen.find((s) => !s.countdown)).toEqual({ countdown: false, told: true });

  // The holder is at checkout with a clock that shows m:ss and ticks.
  expect(await hashOf(winner.page)).toMatch(/^#\/checkout\/[0-9a-f-]{36}$/);
  await winner.page.getByRole('heading', { level: 1, name: 'Checkout' }).waitFor();
  const first = (await textOf(countdown(winner.page))) ?? '';
  expect(first).toMatch(/^0:0[0-8]$/);
  expect(await settle(() => textOf(countdown(winner.page)), (t) => t !== first)).toMatch(/^0:0[0-7]$|^Your hold has ended$/);
  // The other buyer may not buy while it is held.
  expect(await settle(() => buyButton(loser.page).count(), (n) => n === 0)).toBe(0);
  expect(await settle(() => textOf(loser.page.getByTestId('listing-status')), (t) => t === 'Reserved')).toBe('Reserved');

  // The hold ends unpaid: the Buy button comes back by itself, in the same page (no reload).
  await buyButton(loser.page).waitFor({ timeout: (TTL_SECONDS + 15) * 1000 });
  expect(await settle(() => textOf(loser.page.getByTestId('listing-status')), (t) => t === 'Available')).toBe('Available');
  expect(await toldSomeoneElse(loser.page).count()).toBe(0);
  expect(await stillMarked(loser.page)).toBe(true);
  // …and the holder's checkout takes no payment any more: its clock has stopped (saying so, or gone once
  // the page learns the order expired) and Pay is disabled.
  const pay = winner.page.getByRole('button', { name: 'Pay', exact: true });
  expect(await settle(() => pay.isDisabled(), (disabled) => disabled)).toBe(true);
  expect([null, 'Your hold has ended']).toContain(await textOf(countdown(winner.page)));
  expect(await stillMarked(winner.page)).toBe(true);
}, 60_000);
