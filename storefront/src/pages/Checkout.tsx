import { useEffect, useRef, useState } from 'preact/hooks';
import { api, clientConfig, path, randomId, type Listing, type Order, type Payment, type PaymentReply } from '../api';
import { ErrorAlert, Loading } from '../components/Alert';
import { Countdown, secondsLeft } from '../components/Countdown';
import { useAction, useLoad, useTitle } from '../hooks';
import { useKnownListing } from '../listings';
import { onListingChange } from '../live';
import { formatPrice } from '../money';
import { href, navigate } from '../router';
import { stripeClient, stripeFailure, type StripeClient, type StripeElements } from '../stripe';

/** The sandbox's stand-ins for Stripe's test cards (its provider answers like Stripe's test mode). */
const TEST_CARDS = [
  { id: 'pm_card_visa', label: 'Visa (succeeds)' },
  { id: 'pm_card_mastercard', label: 'Mastercard (succeeds)' },
  { id: 'pm_card_chargeDeclined', label: 'Declined' },
  { id: 'pm_card_chargeDeclinedInsufficientFunds', label: 'Declined (insufficient funds)' },
  { id: 'pm_card_authenticationRequired', label: '3-D Secure' },
  { id: 'pm_card_threeDSecureRequiredChargeDeclined', label: '3-D Secure, then declined' },
] as const;

/** The PaymentIntent's id: the part of its client secret before `_secret_`. */
const intentIdOf = (clientSecret: string): string => clientSecret.split('_secret_')[0] ?? '';

export function CheckoutPage({ orderId }: { orderId: string }) {
  useTitle('Checkout');
  const order = useLoad(() => api.get<{ order: Order }>(path('orders', orderId)).then((r) => r.order), [orderId]);
  const config = useLoad(clientConfig, []);
  const listingId = order.data?.listingId;
  // What is being bought: known from the page before, or asked once; then as its live changes say.
  const known = useKnownListing(listingId);
  const [changed, setListing] = useState<Listing | undefined>(undefined);
  const listing = changed ?? known;
  const [ended, setEnded] = useState(false);
  const [coupon, setCoupon] = useState('');
  const [card, setCard] = useState<string>(TEST_CARDS[0].id);
  const [challenge, setChallenge] = useState<Payment | null>(null);
  const [stripe, setStripe] = useState<{ client: StripeClient; elements: StripeElements } | null>(null);
  const paymentElement = useRef<HTMLDivElement>(null);
  const pay = useAction();
  const cancel = useAction();
  const { reload } = order;

  // The hold can end elsewhere (cancelled in another tab, paid, expired): the listing's change says so.
  useEffect(
    () =>
      onListingChange((change) => {
        if (change.listing.id !== listingId) return;
        setListing(change.listing);
        if (change.type === 'released' || change.type === 'sold' || change.type === 'deleted') reload();
      }),
    [listingId, reload],
  );

  // Stripe's Payment Element, only with a publishable key.
  const publishableKey = config.data?.stripe?.publishableKey;
  const amount = order.data?.priceCents;
  const currency = order.data?.currency;
  useEffect(() => {
    if (!publishableKey || amount === undefined || !currency || !paymentElement.current) return;
    let element: { destroy(): void } | undefined;
    let stale = false;
    stripeClient(publishableKey).then(
      (client) => {
        if (stale || !paymentElement.current) return;
        const elements = client.elements({ mode: 'payment', amount, currency, paymentMethodCreation: 'manual' });
        const created = elements.create('payment');
        created.mount(paymentElement.current);
        element = created;
        setStripe({ client, elements });
      },
      (err: unknown) => pay.setError(err),
    );
    return () => {
      stale = true;
      element?.destroy();
    };
  }, [publishableKey, amount, currency]);

  const data = order.data;
  const pending = data?.status === 'pending';
  const over = ended || (data ? secondsLeft(data.expiresAt) === 0 : false);

  function paid() {
    navigate(`/orders/${orderId}`);
  }

  /** After 3-D Secure: the payment as the provider now has it. */
  async function settle(payment: Payment) {
    const reply = await api.post<PaymentReply>(`/payments/${encodeURIComponent(payment.id)}/refresh`);
    if (reply.payment.status === 'succeeded') return paid();
    if (reply.payment.status === 'requires_action') throw new Error('The bank has not confirmed the payment yet. Please try again.');
    throw new Error('The payment did not go through. Please choose another card or try again.');
  }

  async function onPay(event: Event) {
    event.preventDefault();
    if (!data) return;
    await pay.run(async () => {
      let paymentMethod: string | undefined = card;
      if (publishableKey) {
        if (!stripe) throw new Error('The card form is still loading.');
        const submitted = await stripe.elements.submit();
        if (submitted.error) throw stripeFailure(submitted.error, 'Please check the card details.');
        const created = await stripe.client.createPaymentMethod({ elements: stripe.elements });
        if (created.error || !created.paymentMethod) throw stripeFailure(created.error, 'The card could not be used.');
        paymentMethod = created.paymentMethod.id;
      }
      const couponCode = coupon.trim() || undefined;
      // One key per attempt: a retried request is recognised, a new click is a new attempt.
      const reply = await api.post<PaymentReply>('/payments', { orderId, paymentMethod, couponCode }, { headers: { 'Idempotency-Key': randomId() } });
      if (reply.payment.status === 'succeeded') return paid();
      const next = reply.payment.nextAction;
      if (reply.payment.status !== 'requires_action' || !next) throw new Error('The payment did not go through. Please try again.');
      if (next.type === 'sandbox_authenticate') return setChallenge(reply.payment);
      if (!stripe) throw new Error('This payment needs Stripe.js, which is not loaded.');
      const handled = await stripe.client.handleNextAction({ clientSecret: next.clientSecret });
      if (handled.error) throw stripeFailure(handled.error, 'The bank could not confirm the payment.');
      await settle(reply.payment);
    });
  }

  async function onAuthenticate(outcome: 'complete' | 'fail') {
    const payment = challenge;
    const clientSecret = payment?.nextAction?.clientSecret;
    if (!payment || !clientSecret) return;
    await pay.run(async () => {
      try {
        await api.post(`/sandbox/payment-intents/${encodeURIComponent(intentIdOf(clientSecret))}/authenticate`, { clientSecret, outcome }, { auth: false });
        await settle(payment);
      } finally {
        setChallenge(null);
      }
    });
  }

  async function onCancel() {
    const result = await cancel.run(() => api.del<{ order: Order }>(path('orders', orderId)));
    if (result) navigate(`/listings/${result.order.listingId}`);
  }

  const loading = order.loading || config.loading;
  return (
    <section aria-labelledby="page-title" aria-busy={loading ? 'true' : 'false'}>
      <h1 id="page-title" tabIndex={-1}>
        Checkout
      </h1>
      <ErrorAlert error={order.error ?? config.error} />
      {loading && !data && <Loading />}
      {data && (
        <>
          <p class="checkout-item">
            {listing ? <a href={href(`/listings/${listing.id}`)}>{listing.title}</a> : 'Your order'}
            <span class="price price-large">{formatPrice(data.priceCents, data.currency)}</span>
          </p>
          {/* An expired order is a hold that ended: the countdown says so, here or after a reload. */}
          {pending || data.status === 'expired' ? (
            <Countdown expiresAt={data.expiresAt} ended={data.status === 'expired'} onEnd={() => setEnded(true)} />
          ) : (
            <p role="status">
              This order is {data.status}. <a href={href(`/orders/${orderId}`)}>See the order</a>
            </p>
          )}
          {(data.status === 'expired' || (pending && over)) && (
            <p>
              The listing is no longer held for you. <a href={href(`/listings/${data.listingId}`)}>Back to the listing</a>
            </p>
          )}
          <form class="form" onSubmit={onPay} aria-describedby="pay-help">
            <fieldset disabled={!pending || over || pay.busy}>
              <legend>Payment</legend>
              <div class="field">
                <label for="coupon">Coupon code</label>
                <input id="coupon" name="coupon" value={coupon} maxLength={40} autoComplete="off" autoCapitalize="characters" spellcheck={false} onInput={(e) => setCoupon(e.currentTarget.value)} />
              </div>
              {config.data && !config.data.stripe && (
                <div class="field">
                  <label for="test-card">Test card</label>
                  <select id="test-card" name="card" value={card} onChange={(e) => setCard(e.currentTarget.value)}>
                    {TEST_CARDS.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.label}
                      </option>
                    ))}
                  </select>
                  <p id="pay-help" class="hint">
                    The market runs in sandbox mode: no real card is charged.
                  </p>
                </div>
              )}
              {publishableKey && <div ref={paymentElement} class="payment-element" />}
              <div class="buttons">
                <button type="submit" class="primary" disabled={!config.data || !pending || over || pay.busy}>
                  {pay.busy ? 'Paying…' : 'Pay'}
                </button>
              </div>
            </fieldset>
          </form>
          <ErrorAlert error={pay.error} labels={{ couponCode: 'Coupon code', paymentMethod: 'Card' }} />
          {pending && (
            <p>
              <button type="button" onClick={onCancel} disabled={cancel.busy || pay.busy}>
                Cancel order
              </button>
            </p>
          )}
          <ErrorAlert error={cancel.error} />
          {challenge && <SandboxChallenge busy={pay.busy} onAnswer={onAuthenticate} />}
        </>
      )}
    </section>
  );
}

/** The sandbox's stand-in for the bank's 3-D Secure page. */
function SandboxChallenge({ busy, onAnswer }: { busy: boolean; onAnswer: (outcome: 'complete' | 'fail') => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => el?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="challenge-title"
      aria-describedby="challenge-text"
      // The bank's question needs an answer: Escape does not dismiss it (nothing would be decided).
      onCancel={(e) => e.preventDefault()}
    >
      <h2 id="challenge-title">Confirm this payment</h2>
      <p id="challenge-text">Your bank asks you to confirm this payment (3-D Secure). This is the sandbox's test page: choose what the bank should answer.</p>
      <div class="buttons">
        <button type="button" class="primary" disabled={busy} onClick={() => onAnswer('complete')}>
          Complete authentication
        </button>
        <button type="button" disabled={busy} onClick={() => onAnswer('fail')}>
          Fail authentication
        </button>
      </div>
    </dialog>
  );
}

