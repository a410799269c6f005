// Stripe.js, only when the gateway has a publishable key (GET /config): loaded from js.stripe.com
// (Stripe requires that; the page's Content-Security-Policy allows it only then), never bundled.
// The Payment Element collects the card; the server confirms the PaymentIntent; 3-D Secure is
// finished here with handleNextAction.

interface StripeError {
  message?: string;
}
export interface StripeElements {
  create(type: 'payment', options?: Record<string, unknown>): { mount(el: HTMLElement): void; destroy(): void };
  submit(): Promise<{ error?: StripeError }>;
}
export interface StripeClient {
  elements(options: Record<string, unknown>): StripeElements;
  createPaymentMethod(options: { elements: StripeElements }): Promise<{ error?: StripeError; paymentMethod?: { id: string } }>;
  handleNextAction(options: { clientSecret: string }): Promise<{ error?: StripeError }>;
}
type StripeFactory = (publishableKey: string) => StripeClient;

const STRIPE_JS = 'https://js.stripe.com/v3';
let loading: Promise<StripeFactory> | null = null;

function loadStripeJs(): Promise<StripeFactory> {
  loading ??= new Promise<StripeFactory>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = STRIPE_JS;
    script.async = true;
    script.onload = () => {
      const factory = (window as unknown as { Stripe?: StripeFactory }).Stripe;
      if (factory) resolve(factory);
      else reject(new Error('Stripe.js did not load.'));
    };
    script.onerror = () => {
      loading = null;
      script.remove();
      reject(new Error('The card form could not be loaded from Stripe. Check your connection and try again.'));
    };
    document.head.appendChild(script);
  });
  return loading;
}

const clients = new Map<string, StripeClient>();
export async function stripeClient(publishableKey: string): Promise<StripeClient> {
  const known = clients.get(publishableKey);
  if (known) return known;
  const client = (await loadStripeJs())(publishableKey);
  clients.set(publishableKey, client);
  return client;
}

/** A Stripe.js answer's error as something to show. */
export function stripeFailure(error: StripeError | undefined, fallback: string): Error {
  return new Error(error?.message ?? fallback);
}
