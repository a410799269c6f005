import type { Order } from '../contracts/orders';
import { AppError, type FieldError, isTransientInfrastructureError, type ProblemExtensions } from './app-error';

type OrderStatus = Order['status'];

/**
 * A problem's sentence: fixed, or built from the facts of this occurrence. Functions take plain
 * parameters (no defaults, no rest): `problem` reads their arity to tell facts from options.
 */
type Sentence = string | ((...facts: never[]) => string);

interface CatalogueEntry {
  readonly status: number;
  /** When it happens, in one line: the README table and the OpenAPI document show it. */
  readonly description: string;
  /** One sentence, or several by name when the same problem is met in different situations. */
  readonly detail: Sentence | Readonly<Record<string, Sentence>>;
  /** How long to wait before trying again, when that is the same every time. */
  readonly retryAfterSeconds?: number;
  /**
   * The code on the wire, when it is not the entry's name: only for a code answered at two
   * statuses (the catalogue has one status per entry).
   */
  readonly code?: string;
}

const WHY_NOT_PENDING: Record<OrderStatus, string> = {
  complete: 'it has already been paid',
  cancelled: 'it was cancelled',
  expired: 'it expired: its hold on the listing ended before it was paid',
  refunded: 'it was paid and then refunded',
  // Pending but past its hold: the expiry is a moment away, and paying now would sell a released listing.
  pending: 'its hold on the listing has ended',
};

/** What payments-service says, as whole sentences: it is asked to pay, never to cancel. */
const WHY_NOT_PAYABLE: Record<OrderStatus, string> = {
  pending: 'This order can no longer be paid: its checkout time is over. Please order again.',
  complete: 'This order has already been paid.',
  cancelled: 'This order was cancelled, so it cannot be paid.',
  expired: 'This order expired before it was paid. Please order again.',
  refunded: 'This order was paid and then refunded.',
};

/** An order that was never paid: only a complete one can be refunded (a refunded one again is no error, it is idempotent). */
export type UnrefundableStatus = Exclude<OrderStatus, 'complete' | 'refunded'>;

const WHY_NOT_REFUNDABLE: Record<UnrefundableStatus, string> = {
  pending: 'it has not been paid',
  cancelled: 'it was cancelled before it was paid',
  expired: 'it expired before it was paid',
};

/** Stripe refuses an amount with its own code and words; the shared check (contracts/money.ts) says why in its words. */
const amountRefusal = { check: (rule: string) => `Amount ${rule}.`, stripe: (stripeSays: string) => stripeSays };

/**
 * Every problem the system answers with, by name: its status, its sentence and when it happens.
 * The one place a code is defined; `problem()` builds the `AppError`, the README's error table and
 * the OpenAPI document's problem descriptions are made from it, and common/test/error-catalogue.test.ts
 * keeps them in step.
 */
export const ERROR_CATALOGUE = {
  // --- Any route: reading the request ---
  validation_failed: {
    status: 400,
    description: 'A field of the request (body, query, path, headers) or of an RPC message is invalid; `errors` lists every bad field',
    detail: {
      fields: (what: string) => `The ${what} has invalid fields.`,
      headers: 'The request headers have invalid fields.',
      body: 'The request body is not valid.',
    },
  },
  malformed_json: { status: 400, description: 'The request body is not valid JSON', detail: 'The request body is not valid JSON.' },
  invalid_body: {
    status: 400,
    description: 'The request body does not decode as its `Content-Encoding`, or ended before its `Content-Length`',
    detail: {
      encoding: 'The request body could not be read: it does not match its Content-Encoding or Content-Length.',
      truncated: 'The request body could not be read: the upload ended before its Content-Length.',
    },
  },
  unsupported_encoding: {
    status: 400,
    description: 'A `Content-Encoding` other than gzip or deflate (none at all for a file upload)',
    detail: {
      bodyParser: 'The request body encoding is not supported.',
      json: 'The Content-Encoding of the request body is not supported: send it uncompressed, as gzip or as deflate.',
      file: 'Send the file as it is, without a Content-Encoding.',
    },
  },
  payload_too_large: {
    status: 413,
    description: 'The body is larger than 100 kB (a file: than its route allows), or an RPC request is too large to pass on',
    detail: {
      jsonBody: 'The request body is larger than 100 kB.',
      file: (maxBytes: number) => `The file is larger than ${maxBytes / (1024 * 1024)} MB.`,
      rpc: (service: string) => `The request is too large to pass to the ${service} service.`,
    },
  },
  unsupported_media_type: {
    status: 415,
    description: 'A JSON route was sent something other than UTF-8 JSON',
    detail: {
      notJson: 'This route reads JSON: send the body with Content-Type: application/json.',
      charset: 'JSON request bodies must be UTF-8.',
    },
  },
  route_not_found: { status: 404, description: 'No route has this method and path', detail: (method: string, path: string) => `There is no ${method} ${path} route.` },
  method_not_allowed: {
    status: 405,
    description: 'A download link asked for with HEAD: only GET uses it',
    detail: 'Download the file with GET: asking for its headers alone would use up the link.',
  },
  rate_limited: {
    status: 429,
    description: 'Too many requests from this client; `Retry-After` and the `RateLimit` headers say when to try again',
    detail: 'Too many requests. Please wait before trying again; Retry-After says how long.',
  },

  // --- Who is asking ---
  unauthorized: { status: 401, description: 'No access token was sent to a route that needs one', detail: 'Sign in to do this: send a valid access token.' },
  invalid_token: {
    status: 401,
    description: 'The access token is malformed, not signed by us, or not sent as `Bearer <token>`',
    detail: { invalid: 'The access token is not valid.', scheme: 'The Authorization header must be "Bearer <access token>".' },
  },
  token_expired: { status: 401, description: 'The access token has expired: refresh it', detail: 'The access token has expired.' },
  token_revoked: {
    status: 401,
    description: "The access token was issued before its account was deleted or its password, role or sessions changed",
    detail: 'This access token was revoked (the account was deleted, or its password, role or sessions changed). Please sign in again.',
  },
  forbidden: {
    status: 403,
    description: 'Signed in, but not allowed to do this (an admin-only route, or someone else\'s account)',
    detail: {
      adminOnly: 'Only an admin can do this.',
      changeOwnAccount: 'You can only change your own account.',
      deleteOwnAccount: 'You can only delete your own account.',
      changeRole: 'Only an admin can change a role.',
      passwordByOwner: "Only the account's owner changes its password here; an admin resets it with POST /users/{id}/password.",
      resetPassword: 'Only an admin can reset a password.',
      resetOwnPassword: 'Change your own password with PATCH /users/{id} and your current password.',
      refundPayment: 'Only an admin can refund a payment.',
      manageCoupons: 'Only an admin can manage coupons.',
    },
  },
  not_found: { status: 404, description: 'The resource does not exist, or is not yours to see', detail: (what: string) => `${what} was not found.` },

  // --- Users and sessions ---
  invalid_credentials: { status: 401, description: 'Sign-in with a wrong email or password', detail: 'The email or password is not correct.' },
  invalid_refresh_token: {
    status: 401,
    description: 'The refresh token is unknown, expired or signed out',
    detail: 'The refresh token is not valid. Please sign in again.',
  },
  refresh_token_reused: {
    status: 401,
    description: 'A refresh token was used twice: every session started from it is signed out',
    detail: 'This refresh token was already used. For safety, every session started from it has been signed out.',
  },
  current_password_incorrect: {
    status: 403,
    description: 'A password change with a wrong current password',
    detail: 'The current password is not correct.',
  },
  email_taken: { status: 409, description: 'Sign-up with an email that already has an account', detail: 'An account with this email already exists.' },
  last_admin: {
    status: 409,
    description: 'The last admin account would be deleted or lose its role',
    detail: 'This is the last admin account: make another admin first.',
  },
  too_many_signin_failures: {
    status: 429,
    description: 'Too many failed sign-ins for one account; `Retry-After` says when to try again',
    detail: 'Too many failed sign-ins for this account. Please wait before trying again; Retry-After says how long.',
  },

  // --- Listings and their goods ---
  invalid_price: {
    status: 400,
    description: 'A new price its listing\'s currency cannot be charged at (names `priceCents`)',
    detail: (currency: string) => `This price cannot be charged in ${currency}.`,
  },
  empty_file: { status: 400, description: 'A goods file upload with no bytes', detail: 'The file is empty: send its bytes as the request body.' },
  not_listing_seller: {
    status: 403,
    description: 'Someone other than the seller changes a listing or its goods (or deletes it, and is not an admin)',
    detail: {
      change: 'Only the seller can change this listing.',
      delete: 'Only the seller or an admin can delete this listing.',
      goods: "Only the seller can see or change this listing's goods.",
    },
  },
  own_listing: {
    status: 403,
    description: 'A seller orders, or joins the waiting list of, their own listing',
    detail: { buy: 'You cannot buy your own listing.', waitlist: 'You cannot join the waiting list of your own listing.' },
  },
  listing_reserved: {
    status: 409,
    description: "Someone else's checkout holds the listing: it cannot be ordered, changed or deleted until that ends",
    detail: 'This listing is being checked out by someone else, please come back later',
  },
  listing_sold: { status: 409, description: 'The listing has already been sold', detail: 'This listing has already been sold.' },
  listing_not_reserved: {
    status: 409,
    description: 'A step of a checkout for a listing no longer held for that order',
    detail: 'The listing is not reserved for this order.',
  },
  listing_not_sold: { status: 409, description: 'Goods asked for by an order the listing was not sold to', detail: 'This listing was not sold to this order.' },
  edit_conflict: {
    status: 409,
    description: 'The listing changed between reading and writing an edit',
    detail: 'The listing changed while you were editing it. Please try again.',
  },

  // --- Orders, holds and the waiting list ---
  order_not_pending: {
    status: 409,
    description: 'The order is complete, cancelled, expired, refunded or past its hold, so it cannot be paid or cancelled',
    detail: {
      inOrders: (action: 'cancelled' | 'paid', status: OrderStatus) => `This order can no longer be ${action}: ${WHY_NOT_PENDING[status]}.`,
      atPayment: (status: OrderStatus) => WHY_NOT_PAYABLE[status],
    },
  },
  order_not_refundable: {
    status: 409,
    description: 'A refund of an order that was never paid',
    detail: (status: UnrefundableStatus) => `This order cannot be refunded: ${WHY_NOT_REFUNDABLE[status]}.`,
  },
  order_not_complete: {
    status: 409,
    description: 'Goods asked for by an order that is not paid, or was refunded',
    detail: {
      refunded: 'This order was refunded: its goods were revoked with the refund.',
      unpaid: 'The goods are handed over once the order is paid: this order is not complete.',
    },
  },
  already_holding: {
    status: 409,
    description: 'The buyer already holds the listing (the `orderId` extension names that order)',
    detail: (orderId: string) =>
      `You already hold this listing: your order ${orderId} is for it. Pay for that order or cancel it; there is no need to order again.`,
  },
  too_many_holds: {
    status: 409,
    description: 'The buyer already has `MAX_PENDING_ORDERS_PER_BUYER` pending orders',
    detail: (limit: number) =>
      `A buyer can hold at most ${limit} listings at once (pending orders), and you already do. Pay for or cancel one of your pending orders, or let one expire, then order again.`,
  },
  rehold_cooldown: {
    status: 409,
    description: 'The buyer cancelled an order for this listing less than `REHOLD_COOLDOWN_SECONDS` ago',
    detail: (allowedAt: string, secondsLeft: number) =>
      `You cancelled your order for this listing a short while ago, so you cannot hold it again yet. Try again in ${secondsLeft} s (from ${allowedAt}); anyone else may order it meanwhile.`,
  },
  listing_available: {
    status: 409,
    description: 'Joining the waiting list of a listing nobody holds: order it instead',
    detail: 'Nobody holds this listing right now, so there is no line to join: order it instead (POST /orders).',
  },
  already_waiting: {
    status: 409,
    description: 'Already in the waiting list (the `position` extension says where)',
    detail: (position: number) => `You are already in the waiting list of this listing, at position ${position}.`,
  },
  waitlist_full: {
    status: 409,
    description: 'The waiting list has `WAITLIST_MAX_LENGTH` people',
    detail: (limit: number) => `The waiting list of this listing is full (${limit} people). Try again later.`,
  },
  too_many_waitlists: {
    status: 409,
    description: 'The person is already in `WAITLIST_MAX_PER_PERSON` waiting lists',
    detail: (limit: number) =>
      `A person can wait for at most ${limit} listings at once, and you already do. Leave one of your waiting lists (DELETE /listings/{id}/waitlist), then join again.`,
  },
  link_gone: {
    status: 410,
    description: 'The download link has expired, been used up or been revoked',
    detail: 'This download link has expired, been used up or been revoked.',
  },
  goods_not_ready: {
    status: 503,
    description: 'The sale of a just-paid order is still being recorded; `Retry-After` says when to ask again',
    detail: 'The sale of this order is still being recorded. Please try again shortly.',
    retryAfterSeconds: 5,
  },
  checkout_interrupted: {
    status: 503,
    description: 'The checkout took too long and was undone',
    detail: 'The checkout took too long and was undone. Please try again.',
  },

  // --- Payments and coupons ---
  payment_method_required: {
    status: 400,
    description: 'The amount after any coupon is above 0 and no `paymentMethod` was sent',
    detail: 'A paymentMethod is needed to pay this order.',
  },
  coupon_invalid: {
    status: 400,
    description: 'The coupon cannot be used: no such code, used up, or expired (one answer for all, so codes cannot be probed)',
    detail: 'This coupon code cannot be used. Check the code, or pay without it.',
  },
  coupon_expiry_in_past: { status: 400, description: 'A coupon created with an `expiresAt` that has passed', detail: 'The coupon would already be expired.' },
  invalid_payment_method: {
    status: 400,
    description: 'The payment provider does not know the payment method',
    detail: 'The payment method was not recognised. Please use another card.',
  },
  invalid_amount: {
    status: 400,
    description: 'An amount to charge that is not a positive whole number of minor units',
    detail: "The amount to charge must be a whole number of the currency's minor unit greater than zero.",
  },
  invalid_currency: {
    status: 400,
    description: 'A currency the payment provider cannot charge in',
    detail: {
      unsupported: (currency: string, supported: readonly string[]) =>
        `Invalid currency: ${currency}. The supported currencies (lowercase ISO 4217 codes) are ${supported.join(', ')}.`,
      stripe: (stripeSays: string) => stripeSays,
    },
  },
  amount_too_small: { status: 400, description: "Below Stripe's minimum charge in the currency", detail: amountRefusal },
  amount_too_large: { status: 400, description: "Above Stripe's maximum charge in the currency", detail: amountRefusal },
  invalid_charge_amount: { status: 400, description: "Not a multiple of the step Stripe charges the currency in", detail: amountRefusal },
  invalid_idempotency_key: {
    status: 400,
    description: 'An idempotency key for the payment provider that is empty or too long',
    detail: (maxLength: number) => `The idempotency key must be 1 to ${maxLength} characters long.`,
  },
  invalid_signature: {
    status: 400,
    description: 'A webhook whose `Stripe-Signature` is missing or does not verify, or that has no body',
    detail: {
      header: 'The Stripe-Signature header is missing or too long.',
      noBody: 'The webhook has no body.',
      unverified: 'The webhook signature could not be verified.',
    },
  },
  card_declined: {
    status: 402,
    description: 'The payment provider declined the card; the order stays pending and payable',
    detail: (providerSays: string) => providerSays || 'Your card was declined.',
  },
  payment_not_found: {
    status: 404,
    description: 'The payment provider has no such payment (or its client secret does not match)',
    detail: 'The payment was not found at the payment provider.',
  },
  payment_in_progress: {
    status: 409,
    description: 'Another payment of this order (or this Idempotency-Key) is being processed',
    detail: 'A payment of this order is already being processed. Please check the order again in a moment.',
  },
  payment_not_refundable: {
    status: 409,
    description: 'A refund of a payment that did not succeed',
    detail: (status: string) => `Only a payment that succeeded can be refunded; this one is ${status}.`,
  },
  payment_canceled: {
    status: 409,
    description: "The payment's intent was cancelled at the provider before it was completed: pay again",
    detail: 'This payment was cancelled at the payment provider before it was completed. Please pay again.',
  },
  payment_intent_unexpected_state: {
    status: 409,
    description: 'A payment step the payment is not in a state for (e.g. capturing a cancelled one)',
    detail: {
      step: (action: string, status: string) => `The payment cannot be ${action} because its status is ${status}.`,
      any: 'The payment is not in a state that allows this step.',
    },
  },
  authorization_expired: {
    status: 409,
    description: 'The card authorization expired before the payment was captured',
    detail: 'The card authorization expired before the payment was captured.',
  },
  provider_idempotency_key_reused: {
    status: 409,
    code: 'idempotency_key_reused',
    description: 'The payment provider was sent one idempotency key for two different steps',
    detail: 'This payment step was already attempted with different details.',
  },
  coupon_code_taken: { status: 409, description: 'A coupon with this code exists', detail: 'A coupon with this code already exists.' },
  idempotency_key_reused: {
    status: 422,
    description: 'The Idempotency-Key was already used with a different request (order, card or coupon)',
    detail:
      'This Idempotency-Key was already used with a different request (order, paymentMethod or couponCode). Repeat that request to get its result, or use a new key.',
  },
  too_many_coupon_attempts: {
    status: 429,
    description: 'Too many unusable coupons within the window; `Retry-After` says when to try again',
    detail:
      'Too many coupon codes that could not be used. Please wait before trying a coupon again; Retry-After says how long. Paying without a coupon still works.',
  },
  payment_not_collected: {
    status: 502,
    description: 'The order was completed but the provider refused the capture: no money taken, operators alerted',
    detail:
      'Your order is complete, but the payment could not be collected: the card authorization had expired. No money was taken; we will be in touch about paying for it.',
  },
  refund_failed: {
    status: 502,
    description: 'The payment provider could not return the money of a refund; operators alerted',
    detail: 'The payment provider could not return the money. Our team has been alerted.',
  },
  payment_provider_error: {
    status: 502,
    description: 'The payment provider refused the request or is not answering',
    detail: {
      rejected: 'The payment provider could not process this request. Please try again later.',
      unavailable: 'The payment provider is not answering right now. Please try again in a moment.',
    },
  },
  payment_outcome_unknown: {
    status: 503,
    description: "The order or the provider's answer could not be confirmed; the payment is settled in the background",
    detail:
      'We could not confirm the payment yet. It will be settled automatically: either the order is completed with one charge or no money is kept. Please check the order in a minute.',
  },
  refund_pending: {
    status: 503,
    description: 'A refund was started at the provider and has not gone through yet',
    detail: 'The refund has been started but has not gone through yet. It is checked again shortly.',
  },
  payment_settling: {
    status: 503,
    description: 'A dispute arrived for a payment still being settled: the webhook is delivered again later',
    detail: 'The disputed payment is still being settled; deliver the event again later.',
  },
  webhooks_not_configured: {
    status: 503,
    description: 'A webhook arrived and `STRIPE_WEBHOOK_SECRET` is not set',
    detail: 'Webhooks are not configured on this server.',
  },

  // --- The gateway's own ---
  too_many_transfers: {
    status: 503,
    description: 'This gateway is already moving as many files as it may at once',
    detail: 'Too many files are being transferred right now. Please try again shortly.',
    retryAfterSeconds: 1,
  },
  too_many_streams: {
    status: 429,
    description: 'This client address already holds `SSE_MAX_PER_CLIENT` live update streams',
    detail: (limit: number) => `This client already has ${limit} live update streams open; close one first.`,
  },
  live_updates_unavailable: {
    status: 503,
    description: 'Live updates cannot be served now (Redis unreachable, the replica full or shutting down)',
    detail: {
      unreachable: 'Live updates are not available right now; try again shortly.',
      full: 'This server holds as many live update streams as it can; try again shortly.',
      stopping: 'This server is shutting down; connect again.',
    },
    retryAfterSeconds: 5,
  },
  storefront_not_built: {
    status: 503,
    description: 'The storefront page is asked for before `npm run build` made it',
    detail: 'The storefront is not built yet: run `npm run build`, then reload this page.',
  },

  // --- Between services ---
  invalid_message: { status: 400, description: 'An RPC message that is not a request envelope', detail: 'The request message is not valid.' },
  caller_not_allowed: {
    status: 403,
    description: 'A service calls an RPC method it may not, or the gateway vouches for a user instead of forwarding their token',
    detail: {
      method: (caller: string, method: string) => `The ${caller} service may not call ${method}.`,
      gatewayVouching: "The gateway forwards the user's token; it cannot vouch for a user.",
    },
  },
  internal_error: { status: 500, description: 'A bug on our side (the details are in the log only)', detail: 'Something went wrong on our side. Please try again.' },
  reply_too_large: { status: 500, description: 'An RPC answer too large to send back', detail: 'The answer was too large to send.' },
  unknown_method: {
    status: 501,
    description: 'An RPC method no service serves',
    detail: (method: string) => `The method ${method || '(none)'} is not served here.`,
  },
  upstream_invalid_reply: {
    status: 502,
    description: 'A service answered in a shape the caller could not read',
    detail: (service: string) => `The ${service} service gave an answer we could not read.`,
  },
  service_unavailable: {
    status: 503,
    description: 'A service, database or Redis we depend on is not answering',
    detail: {
      backing: 'A backing service is not answering right now. Please try again shortly.',
      service: (service: string) => `The ${service} service is not available right now. Please try again shortly.`,
    },
  },
  broker_unavailable: {
    status: 503,
    description: 'The message broker is unreachable, or was lost while a request was out (its outcome is unknown)',
    detail: {
      unreachable: 'The message broker is not reachable right now. Please try again shortly.',
      lost: 'The message broker connection was lost; the outcome of the request is unknown. Please try again.',
    },
  },
  shutting_down: { status: 503, description: 'The gateway is shutting down; requests still out are failed', detail: 'The gateway is shutting down.' },
  upstream_timeout: {
    status: 504,
    description: 'A service did not answer in time',
    detail: (service: string, timeoutMs: number) => `The ${service} service did not answer within ${timeoutMs} ms.`,
  },
} as const satisfies Readonly<Record<string, CatalogueEntry>>;

export type ProblemName = keyof typeof ERROR_CATALOGUE;

type FactsOf<S> = S extends (...facts: infer Facts) => string ? Facts : [];
type DetailArgs<D> = D extends Sentence ? FactsOf<D> : { [Variant in keyof D & string]: [variant: Variant, ...facts: FactsOf<D[Variant]>] }[keyof D & string];

/** What `problem(name, …)` takes after the name: the variant (if the entry has several), then the sentence's facts. */
export type ProblemArgs<Name extends ProblemName> = DetailArgs<(typeof ERROR_CATALOGUE)[Name]['detail']>;

/** The parts of a problem that are not its sentence. */
export interface ProblemOptions {
  errors?: FieldError[];
  retryAfterSeconds?: number;
  extensions?: ProblemExtensions;
}

/**
 * The `AppError` for a catalogued problem:
 * `problem('listing_reserved')`, `problem('not_found', 'The listing')`,
 * `problem('forbidden', 'adminOnly')`, `problem('coupon_invalid', { errors })`.
 */
export function problem<Name extends ProblemName>(name: Name, ...args: ProblemArgs<Name> | [...ProblemArgs<Name>, ProblemOptions]): AppError {
  const entry: CatalogueEntry = ERROR_CATALOGUE[name];
  let rest: readonly unknown[] = args;
  let sentence: Sentence;
  if (typeof entry.detail === 'object') {
    const variant = String(rest[0]);
    const chosen = entry.detail[variant];
    if (chosen === undefined) throw new Error(`problem ${name} has no sentence named ${variant}`);
    sentence = chosen;
    rest = rest.slice(1);
  } else {
    sentence = entry.detail;
  }
  const arity = typeof sentence === 'function' ? sentence.length : 0;
  // The tuple types above make the facts match the sentence's parameters; at run time they are just its first `arity` arguments.
  const detail = typeof sentence === 'function' ? sentence(...(rest.slice(0, arity) as never[])) : sentence;
  const options = (rest[arity] ?? {}) as ProblemOptions;
  return new AppError(
    entry.status,
    entry.code ?? name,
    detail,
    options.errors,
    options.retryAfterSeconds ?? entry.retryAfterSeconds,
    options.extensions,
  );
}

/** Every catalogued problem, as the docs list it: the code on the wire, its status and when it happens. */
export function catalogueRows(): { code: string; status: number; description: string }[] {
  return Object.entries(ERROR_CATALOGUE).map(([name, entry]: [string, CatalogueEntry]) => ({
    code: entry.code ?? name,
    status: entry.status,
    description: entry.description,
  }));
}

/** `err` is the catalogued problem `name` (by its wire code). */
export function isProblem(err: unknown, name: ProblemName): err is AppError {
  const entry: CatalogueEntry = ERROR_CATALOGUE[name];
  return err instanceof AppError && err.code === (entry.code ?? name) && err.status === entry.status;
}

/** Maps anything thrown to an AppError; unknown errors become an opaque 500 (details go to the log only). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isTransientInfrastructureError(err)) return problem('service_unavailable', 'backing');
  return problem('internal_error');
}
