import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { type AppError, DIRECT_REPLY_TO, eventFacts, HEADER_DEADLINE, HEADER_SENDER, requestFacts, ServiceIdentity, type ServiceName, connectRaw, type RawChannel as Channel, type RawConnection as ChannelModel, type RawMessage as ConsumeMessage, type RawGetMessage as GetMessage } from '@market/common';
import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';

/**
 * Point 9 of "Trust nobody by default", at the broker: an attacker who can reach RabbitMQ (here with
 * guest/guest) but holds none of the services' keys publishes forged requests and events straight to
 * the stack's queues and exchange. Each must be refused, and nothing may change.
 */

const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };

let stack: Stack;
let api: ReturnType<typeof client>;
let attacker: BrokerAttacker;
let admin: Session;
let seller: Session;
let buyer: Session;
let victim: Session;

beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ORDER_TTL_SECONDS: '120' } });
  api = client(stack);
  attacker = await BrokerAttacker.connect(stack);
  [seller, buyer, victim] = await Promise.all([api.signUp('Seller'), api.signUp('Buyer'), api.signUp('Victim')]);
  admin = (await api.post<Session>('/signin', ADMIN)).body;
});
afterAll(async () => {
  await attacker?.close();
  await stack?.stop();
});

/** A key pair the attacker made: it signs well-formed messages, but no service trusts it. */
function impostor(name: ServiceName): ServiceIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new ServiceIdentity(name, privateKey, new Map([[name, [publicKey]]]));
}

/** How a forged message is signed: not at all, a bare `x-sender` claim, or a key (the attacker's or, in controls, a service's). */
type Signing = { unsigned: true } | { claims: ServiceName } | { signer: ServiceIdentity };

/**
 * Raw amqplib, as an attacker with broker credentials would use it: requests to `<prefix>.rpc.<service>.quorum`
 * asking for the answer on direct reply-to, events to `<prefix>.events`, and a look at the stack's
 * dead-letter queue, where a service puts what it refused (proof it read the message and said no).
 */
class BrokerAttacker {
  private readonly replies = new Map<string, ConsumeMessage>();
  private readonly deadLetters: GetMessage[] = [];

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    private readonly prefix: string,
  ) {}

  static async connect(target: Stack): Promise<BrokerAttacker> {
    const connection = await connectRaw(target.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672');
    const channel = await connection.createChannel();
    const attacker = new BrokerAttacker(connection, channel, target.env.BUS_PREFIX as string);
    await channel.consume(DIRECT_REPLY_TO, (msg) => msg && attacker.replies.set(String(msg.properties.correlationId), msg), { noAck: true });
    return attacker;
  }

  /** Publishes an RPC request; returns its correlation id. */
  request(method: string, envelope: Record<string, unknown>, signing: Signing): string {
    const correlationId = randomUUID();
    const deadline = Date.now() + 5000;
    const body = Buffer.from(JSON.stringify(envelope));
    const headers: Record<string, unknown> = {
      [HEADER_DEADLINE]: deadline,
      ...('claims' in signing ? { [HEADER_SENDER]: signing.claims } : {}),
      ...('signer' in signing ? signing.signer.headers(requestFacts(method, correlationId, deadline), body) : {}),
    };
    this.channel.publish('', `${this.prefix}.rpc.${method.split('.')[0]}.quorum`, body, { correlationId, replyTo: DIRECT_REPLY_TO, type: method, contentType: 'application/json', headers });
    return correlationId;
  }

  /** Publishes an event to the stack's topic exchange; `signedBody` lets a signature made for one body ride on another. */
  publishEvent(type: string, payload: unknown, signing: Signing, opts: { signedPayload?: unknown } = {}): string {
    const id = randomUUID();
    const envelopeOf = (p: unknown): Buffer => Buffer.from(JSON.stringify({ id, type, occurredAt: new Date().toISOString(), payload: p }));
    const body = envelopeOf(payload);
    const signed = opts.signedPayload === undefined ? body : envelopeOf(opts.signedPayload);
    const headers: Record<string, unknown> = {
      ...('claims' in signing ? { [HEADER_SENDER]: signing.claims } : {}),
      ...('signer' in signing ? signing.signer.headers(eventFacts(id, type), signed) : {}),
    };
    this.channel.publish(`${this.prefix}.events`, type, body, { messageId: id, type, contentType: 'application/json', persistent: true, headers });
    return id;
  }

  reply(correlationId: string): { ok: boolean; result?: unknown; error?: { status: number; code: string } } | undefined {
    const msg = this.replies.get(correlationId);
    return msg && JSON.parse(msg.content.toString('utf8'));
  }

  /** Waits until the message with this correlation (or message) id has been refused into the dead-letter queue; the queue that refused it. */
  async refusedBy(id: string, timeoutMs = 5000): Promise<string[]> {
    await eventually(async () => {
      await this.drainDeadLetters();
      return this.deadLetters.some((m) => m.properties.correlationId === id || m.properties.messageId === id);
    }, timeoutMs);
    return this.deadLetters
      .filter((m) => m.properties.correlationId === id || m.properties.messageId === id)
      .map((m) => String((m.properties.headers?.['x-death'] as { queue: string }[] | undefined)?.[0]?.queue ?? ''));
  }

  private async drainDeadLetters(): Promise<void> {
    for (;;) {
      const msg = await this.channel.get(`${this.prefix}.dead-letter.quorum`, { noAck: true });
      if (!msg) return;
      this.deadLetters.push(msg);
    }
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

const actorOf = (session: Session, role: 'user' | 'admin' = 'user') => ({ id: session.user.id, role });
const outcome = (promise: Promise<unknown>): Promise<{ status: number; code?: string }> =>
  promise.then(
    () => ({ status: 200 }),
    (err: AppError) => ({ status: err.status, code: err.code }),
  );

async function pendingOrder(who: Session = buyer): Promise<{ order: { id: string; status: string }; listingId: string }> {
  const listing = await api.createListing(seller.accessToken);
  const res = await api.post('/orders', { listingId: listing.id }, who.accessToken);
  expect(res.status).toBe(201);
  return { order: res.body.order, listingId: listing.id };
}

const orderStatus = async (id: string, who: Session): Promise<string> => (await api.get(`/orders/${id}`, who.accessToken)).body.order.status;
const listingStatus = async (id: string): Promise<string> => (await api.get(`/listings/${id}`)).body.listing.status;
/** Upper case, as coupon codes are stored, so that "not in the list" cannot pass on a spelling. */
const forgedCode = (): string => `FORGED-${randomUUID().slice(0, 8).toUpperCase()}`;
const couponCodes = async (): Promise<string[]> => (await api.get('/coupons?limit=100', admin.accessToken)).body.items.map((c: { code: string }) => c.code);

describe('the raw publisher is heard when it holds a real key (so every refusal below is about trust, not format)', () => {
  test('a request signed with payments-service’s own key is answered by orders-service', async () => {
    const { order } = await pendingOrder();
    const id = attacker.request('orders.get', { payload: { id: order.id }, onBehalfOf: actorOf(buyer) }, { signer: stack.identityOf('payments') });
    expect(await eventually(async () => attacker.reply(id) !== undefined)).toBe(true);
    expect(attacker.reply(id)).toMatchObject({ ok: true, result: { order: { id: order.id, status: 'pending' } } });
  });
});

describe('completing an order without paying (orders.complete straight to the broker)', () => {
  test.each<[string, Signing]>([
    ['unsigned', { unsigned: true }],
    ['claiming to be payments without a signature', { claims: 'payments' }],
    ['signed with the attacker’s own key, claiming to be payments', { signer: impostor('payments') }],
  ])('a request %s is refused unanswered; the order stays pending and the listing reserved', async (_how, signing) => {
    const { order, listingId } = await pendingOrder();
    const forged = attacker.request('orders.complete', { payload: { id: order.id }, token: buyer.accessToken, onBehalfOf: actorOf(buyer) }, signing);

    expect(await attacker.refusedBy(forged)).toEqual([`${stack.env.BUS_PREFIX}.rpc.orders.quorum`]);
    expect(attacker.reply(forged)).toBeUndefined();
    expect(await orderStatus(order.id, buyer)).toBe('pending');
    expect(await listingStatus(listingId)).toBe('reserved');
    // The order was payable all along: only the forgery was refused.
    const paid = await api.post('/payments', { orderId: order.id, paymentMethod: 'pm_card_visa' }, buyer.accessToken);
    expect(paid.status).toBe(201);
    expect(paid.body.order.status).toBe('complete');
    expect(attacker.reply(forged)).toBeUndefined();
  });

  test('a genuine service that is not payments is refused with 403 caller_not_allowed, and nothing changes', async () => {
    const { order, listingId } = await pendingOrder();
    const asListings = await stack.rpcAs('listings');
    const asGateway = await stack.rpcAs('api-gateway');
    expect(await outcome(asListings.call('orders.complete', { id: order.id }, { onBehalfOf: actorOf(buyer) }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    expect(await outcome(asGateway.call('orders.complete', { id: order.id }, { token: buyer.accessToken }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    expect(await orderStatus(order.id, buyer)).toBe('pending');
    expect(await listingStatus(listingId)).toBe('reserved');
  });
});

describe('reading someone else’s orders with a forged person', () => {
  test.each<[string, Signing]>([
    ['unsigned', { unsigned: true }],
    ['signed with the attacker’s own key, claiming to be the gateway', { signer: impostor('api-gateway') }],
    ['signed with the attacker’s own key, claiming to be payments', { signer: impostor('payments') }],
  ])('orders.list and orders.get for the victim, %s, are refused unanswered', async (_how, signing) => {
    const { order } = await pendingOrder(victim);
    const list = attacker.request('orders.list', { payload: {}, onBehalfOf: actorOf(victim) }, signing);
    const get = attacker.request('orders.get', { payload: { id: order.id }, onBehalfOf: actorOf(victim) }, signing);

    expect(await attacker.refusedBy(list)).toEqual([`${stack.env.BUS_PREFIX}.rpc.orders.quorum`]);
    expect(await attacker.refusedBy(get)).toEqual([`${stack.env.BUS_PREFIX}.rpc.orders.quorum`]);
    expect(attacker.reply(list)).toBeUndefined();
    expect(attacker.reply(get)).toBeUndefined();
  });

  test('the gateway’s own identity cannot vouch for a person: 403, it must forward their token', async () => {
    const { order } = await pendingOrder(victim);
    const asGateway = await stack.rpcAs('api-gateway');
    expect(await outcome(asGateway.call('orders.get', { id: order.id }, { onBehalfOf: actorOf(victim) }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    expect(await outcome(asGateway.call('orders.list', {}, { onBehalfOf: actorOf(victim) }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    expect(await outcome(asGateway.call('listings.create', { title: 'Vouched for', priceCents: 100 }, { onBehalfOf: actorOf(victim) }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    expect((await api.get(`/listings?sellerId=${victim.user.id}`)).body.total).toBe(0);
  });

  test('with the attacker’s own token, someone else’s order is still not theirs (404, as through the door)', async () => {
    const { order } = await pendingOrder(victim);
    const asGateway = await stack.rpcAs('api-gateway');
    expect(await outcome(asGateway.call('orders.get', { id: order.id }, { token: buyer.accessToken }))).toEqual({ status: 404, code: expect.any(String) });
  });
});

describe('holding a listing without an order', () => {
  test('the gateway’s identity calling listings.reserve is refused with 403 caller_not_allowed; the listing stays available', async () => {
    const listing = await api.createListing(seller.accessToken);
    const asGateway = await stack.rpcAs('api-gateway');
    const reserve = { id: listing.id, orderId: randomUUID() };
    expect(await outcome(asGateway.call('listings.reserve', reserve, { token: buyer.accessToken }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    expect(await outcome(asGateway.call('listings.markSold', reserve, { token: buyer.accessToken }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    const forged = attacker.request('listings.reserve', { payload: reserve, onBehalfOf: actorOf(buyer) }, { signer: impostor('orders') });
    expect(await attacker.refusedBy(forged)).toEqual([`${stack.env.BUS_PREFIX}.rpc.listings.quorum`]);
    expect(await listingStatus(listing.id)).toBe('available');
  });
});

describe('minting a 100 % coupon as a forged admin', () => {
  test('unsigned or signed with the attacker’s key, the request is refused unanswered', async () => {
    const codes = [forgedCode(), forgedCode()];
    const unsigned = attacker.request('payments.createCoupon', { payload: { code: codes[0], percentOff: 100 }, onBehalfOf: actorOf(buyer, 'admin') }, { unsigned: true });
    const impersonated = attacker.request('payments.createCoupon', { payload: { code: codes[1], percentOff: 100 }, onBehalfOf: actorOf(buyer, 'admin') }, { signer: impostor('api-gateway') });

    expect(await attacker.refusedBy(unsigned)).toEqual([`${stack.env.BUS_PREFIX}.rpc.payments.quorum`]);
    expect(await attacker.refusedBy(impersonated)).toEqual([`${stack.env.BUS_PREFIX}.rpc.payments.quorum`]);
    expect(attacker.reply(unsigned)).toBeUndefined();
    expect(attacker.reply(impersonated)).toBeUndefined();
    const issued = await couponCodes();
    expect(issued).not.toContain(codes[0]);
    expect(issued).not.toContain(codes[1]);
  });

  test('signed by the real gateway, a user’s token is still a user (403), and the gateway cannot vouch for an admin (403)', async () => {
    const code = forgedCode();
    const asGateway = await stack.rpcAs('api-gateway');
    expect(await outcome(asGateway.call('payments.createCoupon', { code, percentOff: 100 }, { token: buyer.accessToken }))).toEqual({ status: 403, code: 'forbidden' });
    expect(await outcome(asGateway.call('payments.createCoupon', { code, percentOff: 100 }, { onBehalfOf: actorOf(buyer, 'admin') }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    const asOrders = await stack.rpcAs('orders');
    expect(await outcome(asOrders.call('payments.createCoupon', { code, percentOff: 100 }, { onBehalfOf: actorOf(buyer, 'admin') }))).toEqual({ status: 403, code: 'caller_not_allowed' });
    expect(await couponCodes()).not.toContain(code);
    // The admin, through the door, can: the refusals above were about who asked.
    expect((await api.post('/coupons', { code, percentOff: 100 }, admin.accessToken)).status).toBe(201);
    expect(await couponCodes()).toContain(code);
  });
});

describe('forged events about a live seller', () => {
  test('forged user.deleted and user.sessions_revoked change nothing, though a genuine event published after them has taken effect', async () => {
    const live = await api.signUp('Live seller');
    const liveListing = await api.createListing(live.accessToken);
    const gone = await api.signUp('Genuinely deleted seller');
    const goneListing = await api.createListing(gone.accessToken);
    const userId = live.user.id;

    const forged = [
      attacker.publishEvent('user.deleted', { userId }, { unsigned: true }),
      attacker.publishEvent('user.deleted', { userId }, { claims: 'users' }),
      attacker.publishEvent('user.deleted', { userId }, { signer: impostor('users') }),
      // A genuine service, but not the one that owns user.* events.
      attacker.publishEvent('user.deleted', { userId }, { signer: stack.identityOf('listings') }),
      // A real users-service signature, lifted from another body.
      attacker.publishEvent('user.deleted', { userId }, { signer: stack.identityOf('users') }, { signedPayload: { userId: gone.user.id } }),
      attacker.publishEvent('user.sessions_revoked', { userId, tokenVersion: 1000 }, { signer: stack.identityOf('orders') }),
      attacker.publishEvent('user.sessions_revoked', { userId, tokenVersion: 1000 }, { unsigned: true }),
    ];
    // Published after the forgeries, on the same channel: once its effects show, the consumers have read the forgeries too.
    attacker.publishEvent('user.deleted', { userId: gone.user.id }, { signer: stack.identityOf('users') });

    const asGateway = await stack.rpcAs('api-gateway');
    expect(await eventually(async () => (await api.get(`/listings/${goneListing.id}`)).status === 404)).toBe(true);
    expect(await eventually(async () => (await api.get('/listings?limit=1', gone.accessToken)).body.code === 'token_revoked')).toBe(true);
    expect(await eventually(async () => (await outcome(asGateway.call('listings.list', {}, { token: gone.accessToken }))).code === 'token_revoked')).toBe(true);
    expect(await eventually(async () => (await outcome(asGateway.call('orders.list', {}, { token: gone.accessToken }))).code === 'token_revoked')).toBe(true);
    expect(await eventually(async () => (await outcome(asGateway.call('payments.list', {}, { token: gone.accessToken }))).code === 'token_revoked')).toBe(true);

    // Every forgery was read and refused by a durable consumer…
    for (const id of forged) expect((await attacker.refusedBy(id)).length).toBeGreaterThan(0);
    // …and had no effect: the seller's listing is still for sale and their token still works everywhere.
    const listing = await api.get(`/listings/${liveListing.id}`);
    expect(listing.status).toBe(200);
    expect(listing.body.listing.status).toBe('available');
    expect((await api.get(`/listings?sellerId=${userId}`)).body.total).toBe(1);
    expect((await api.get('/listings?limit=1', live.accessToken)).status).toBe(200);
    expect(await outcome(asGateway.call('listings.list', {}, { token: live.accessToken }))).toEqual({ status: 200 });
    expect(await outcome(asGateway.call('orders.list', {}, { token: live.accessToken }))).toEqual({ status: 200 });
    expect(await outcome(asGateway.call('payments.list', {}, { token: live.accessToken }))).toEqual({ status: 200 });
    expect((await api.post('/listings', { title: 'Still selling', priceCents: 100 }, live.accessToken)).status).toBe(201);
  });
});
