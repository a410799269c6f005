import { client, eventually } from '../support/http';
import { ensureAllRunning, startRabbit, stopRabbit } from '../support/servers';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { RPC_TIMEOUT_MS: '2000' } });
});
afterAll(async () => {
  await ensureAllRunning();
  await stack.stop();
});

interface Outcome {
  title: string;
  status: number;
  ms: number;
  detail?: string;
}

test('RabbitMQ restarted under traffic: quick 503/504s during the outage, recovery without restarts, no acknowledged write lost or doubled', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const outcomes: Outcome[] = [];
  let running = true;
  let n = 0;
  const writer = async (): Promise<void> => {
    while (running) {
      const title = `write ${n++}`;
      const started = Date.now();
      const res = await api.post('/listings', { title, priceCents: 100 }, seller.accessToken);
      outcomes.push({ title, status: res.status, ms: Date.now() - started, ...(res.status === 201 ? {} : { detail: res.body.detail }) });
      if (res.status !== 201) await new Promise((r) => setTimeout(r, 50));
    }
  };
  const writers = [writer(), writer(), writer(), writer()];

  await new Promise((r) => setTimeout(r, 1000));
  stopRabbit();
  try {
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    startRabbit();
  }
  const recovered = await eventually(async () => outcomes.slice(-3).length === 3 && outcomes.slice(-3).every((o) => o.status === 201), 20_000, 200);
  running = false;
  await Promise.all(writers);

  expect(recovered).toBe(true);
  const failures = outcomes.filter((o) => o.status !== 201);
  expect(failures.length).toBeGreaterThan(0);
  for (const f of failures) {
    expect([503, 504]).toContain(f.status);
    // Nothing waits longer than its RPC timeout: a call caught in flight learns when the connection drops…
    expect(f.ms).toBeLessThan(2000 + 500);
  }
  // …and once the outage is known, a call is refused at once.
  const refusedUpFront = failures.filter((f) => /not reachable/.test(f.detail ?? ''));
  expect(refusedUpFront.length).toBeGreaterThan(0);
  for (const f of refusedUpFront) expect(f.ms).toBeLessThan(1000);

  // Let the outbox and any in-doubt requests settle, then compare with what was acknowledged.
  await new Promise((r) => setTimeout(r, 2500));
  const stored = (await api.get(`/listings?sellerId=${seller.user.id}&limit=100`)).body;
  const pages = [stored.items];
  for (let offset = 100; offset < stored.total; offset += 100) pages.push((await api.get(`/listings?sellerId=${seller.user.id}&limit=100&offset=${offset}`)).body.items);
  const titles: string[] = pages.flat().map((l: { title: string }) => l.title);
  for (const ok of outcomes.filter((o) => o.status === 201)) expect(titles.filter((t) => t === ok.title)).toHaveLength(1);
  expect(new Set(titles).size).toBe(titles.length);
});
