#!/usr/bin/env node
// `npm run seed`: fills an EMPTY market with something to click through — three sellers with a few
// listings each (tickets and digital goods, in several currencies, with goods text and some files), a
// demo buyer, and the coupon WELCOME10 made by the admin. Everything goes through the public API of
// the market at SEED_URL (default http://localhost:8080), as any client would, paced by the gateway's
// rate limit (a 429's Retry-After). A market that has listings already is left as it is.
//
// The demo accounts' password is printed at the end: this is development data, never for production.
const BASE = (process.env.SEED_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
const ADMIN_EMAIL = process.env.ADMIN_EMAIL ?? 'admin@market.local';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? 'market-admin-dev';
const DEMO_PASSWORD = 'market-demo';
const COUPON = { code: 'WELCOME10', percentOff: 10 };

const file = (name, lines) => ({ name, contentType: 'text/plain; charset=utf-8', body: Buffer.from(`${lines.join('\n')}\n`) });

const SELLERS = [
  {
    name: 'Maya Okafor',
    email: 'maya@demo.market.local',
    listings: [
      {
        title: 'Jazz night at the Blue Room — 2 seats',
        description: 'Friday 21:00, table seats near the stage. E-tickets, transferred on payment.',
        priceCents: 4500,
        currency: 'usd',
        goods: { text: 'Booking BR-2211, table 4, seats A and B.\nShow the attached tickets at the door.', file: file('blue-room-tickets.txt', ['THE BLUE ROOM — ADMIT TWO', 'Booking BR-2211 · Table 4 · Seats A, B', 'Door code: 7Q4-M2X']) },
      },
      {
        title: 'City marathon bib — 10 km',
        description: 'Injured, cannot run. Name change on the organiser’s site is free until race week.',
        priceCents: 3000,
        currency: 'eur',
        goods: { text: 'Bib transfer code: RUN-10K-48213\nEnter it at the organiser’s “change runner” page.' },
      },
      {
        title: 'Open-air cinema season pass',
        description: 'Every Thursday in July and August, one person.',
        priceCents: 6000,
        currency: 'eur',
        goods: { text: 'Season pass OAC-2026-0571. Your name goes on it at the first screening.' },
      },
    ],
  },
  {
    name: 'Kenji Watanabe',
    email: 'kenji@demo.market.local',
    listings: [
      {
        title: 'Indie game bundle — 5 Steam keys',
        description: 'Five short puzzle and platform games from Tokyo studios.',
        priceCents: 2500,
        currency: 'jpy',
        goods: { text: 'KEY1-DEMO-AAAA\nKEY2-DEMO-BBBB\nKEY3-DEMO-CCCC\nKEY4-DEMO-DDDD\nKEY5-DEMO-EEEE' },
      },
      {
        title: 'Pixel art icon pack (120 icons)',
        description: '16×16 and 32×32, free for commercial use.',
        priceCents: 1200,
        currency: 'jpy',
        goods: { text: 'Thanks! The licence and the list of icons are in the file.', file: file('pixel-icons-licence.txt', ['Pixel art icon pack — licence', 'Use in any project, commercial or not. Do not resell the pack itself.', '120 icons: arrows, items, weather, UI.']) },
      },
      {
        title: 'Photography preset collection',
        description: 'Twelve film-look presets for Lightroom.',
        priceCents: 1800,
        currency: 'usd',
        goods: { text: 'Import the presets from Lightroom’s Presets panel → Import.', file: file('film-presets.txt', ['Film presets (12)', 'Portra 400 · Ektar 100 · Tri-X 400 · …']) },
      },
    ],
  },
  {
    name: 'Sofia Lind',
    email: 'sofia@demo.market.local',
    listings: [
      {
        title: 'Design conference day pass — Stockholm',
        description: 'Day two: talks, workshops and lunch.',
        priceCents: 149900,
        currency: 'sek',
        goods: { text: 'Registration code: DCS-D2-9931. Badge pick-up at the north entrance.' },
      },
      {
        title: 'Knitting pattern: Nordic winter sweater',
        description: 'Sizes XS–XXL, charts and written instructions.',
        priceCents: 650,
        currency: 'gbp',
        goods: { text: 'Happy knitting! The pattern is in the file.', file: file('nordic-sweater-pattern.txt', ['NORDIC WINTER SWEATER', 'Yarn: 8–12 skeins DK · Needles: 3.5 mm and 4 mm', 'Cast on 180 (196, 212, 228, 244, 260) stitches…']) },
      },
    ],
  },
];
const BUYER = { name: 'Demo Buyer', email: 'buyer@demo.market.local' };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** 4500 usd → "$45.00", 2500 jpy → "¥2,500": Intl knows each currency's minor unit (ISO 4217). */
const money = (amount, currency) => {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits);
};

class ApiError extends Error {
  constructor(method, path, status, problem) {
    super(`${method} ${path} answered ${status}: ${problem?.detail ?? problem?.title ?? 'no detail'}`);
    this.status = status;
    this.code = problem?.code;
  }
}

/** One API call; a 429 waits for its Retry-After and tries again. */
async function api(method, path, { token, json, body, headers = {} } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    let res;
    try {
      res = await fetch(`${BASE}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: json !== undefined ? JSON.stringify(json) : body,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new Error(`No market answers at ${BASE} (${err.cause?.code ?? err.cause?.message ?? err.message}). Start one with \`npm start\`, or point SEED_URL at it.`);
    }
    if (res.status === 429 && attempt <= 20) {
      const seconds = Math.max(1, Number(res.headers.get('retry-after')) || 1);
      console.log(`  … rate limited, waiting ${seconds} s`);
      await sleep(seconds * 1000);
      continue;
    }
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(method, path, res.status, parsed);
    return parsed;
  }
}

/** Signs a demo user up, or in when an earlier, interrupted seed already made the account. */
async function demoUser({ name, email }) {
  try {
    const session = await api('POST', '/users', { json: { name, email, password: DEMO_PASSWORD } });
    console.log(`✓ account ${name} <${email}>`);
    return session;
  } catch (err) {
    if (err.status !== 409) throw err;
    const session = await api('POST', '/signin', { json: { email, password: DEMO_PASSWORD } });
    console.log(`✓ account ${name} <${email}> (already there)`);
    return session;
  }
}

async function list(seller, token, { goods, ...listing }) {
  const { listing: created } = await api('POST', '/listings', { token, json: listing });
  if (goods.text) await api('PUT', `/listings/${created.id}/goods`, { token, json: { text: goods.text } });
  if (goods.file) {
    await api('PUT', `/listings/${created.id}/goods/file`, {
      token,
      body: goods.file.body,
      headers: { 'content-type': goods.file.contentType, 'content-disposition': `attachment; filename="${goods.file.name}"` },
    });
  }
  console.log(`✓ ${seller.name} lists “${created.title}” at ${money(created.priceCents, created.currency)} (goods: ${goods.file ? `text and ${goods.file.name}` : 'text'})`);
}

async function seed() {
  console.log(`Seeding the market at ${BASE}…`);
  const existing = await api('GET', '/listings?limit=1');
  if (existing.total > 0) {
    console.log(`The market at ${BASE} has ${existing.total} listing(s) already: seeding only fills an empty market, so nothing was changed.`);
    return;
  }
  // The admin first: wrong admin credentials stop the seed before it writes anything.
  let admin;
  try {
    admin = await api('POST', '/signin', { json: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  } catch (err) {
    throw new Error(`Cannot sign in as the admin ${ADMIN_EMAIL} (${err.message}). Set ADMIN_EMAIL and ADMIN_PASSWORD to the market's admin account.`);
  }
  if (admin.user.role !== 'admin') throw new Error(`${ADMIN_EMAIL} is not an admin.`);
  console.log(`✓ signed in as the admin ${ADMIN_EMAIL}`);

  const sellers = [];
  for (const seller of SELLERS) sellers.push({ seller, session: await demoUser(seller) });
  await demoUser(BUYER);
  // Each seller's requests count against their own rate limit: the three list side by side.
  await Promise.all(sellers.map(async ({ seller, session }) => {
    for (const listing of seller.listings) await list(seller, session.accessToken, listing);
  }));

  try {
    await api('POST', '/coupons', { token: admin.accessToken, json: COUPON });
    console.log(`✓ coupon ${COUPON.code}: ${COUPON.percentOff}% off`);
  } catch (err) {
    if (err.code !== 'coupon_code_taken') throw err;
    console.log(`✓ coupon ${COUPON.code} (already there)`);
  }

  const listed = SELLERS.reduce((n, s) => n + s.listings.length, 0);
  console.log(`\nDone: ${SELLERS.length} sellers, ${listed} listings, a buyer and the coupon ${COUPON.code}. Open ${BASE} and sign in as:`);
  for (const { name, email } of [...SELLERS, BUYER]) console.log(`  ${email.padEnd(26)} ${DEMO_PASSWORD}   (${name})`);
  console.log(`  ${ADMIN_EMAIL.padEnd(26)} ${ADMIN_EMAIL === 'admin@market.local' && !process.env.ADMIN_PASSWORD ? ADMIN_PASSWORD : '(your ADMIN_PASSWORD)'}   (admin: refunds, coupons)`);
}

seed().catch((err) => {
  console.error(`Seeding failed: ${err.message}`);
  process.exit(1);
});
