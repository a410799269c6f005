import { client, type Session } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

export type Api = ReturnType<typeof client>;

export interface OrdersStack {
  stack: Stack;
  api: Api;
  seller: Session;
  buyer: Session;
  /** Someone who is neither: to show what a stranger to an order may not do. */
  other: Session;
}

/** listings- and orders-service behind the gateway, holding each order for `ttlSeconds`, and three people signed up. */
export async function startOrdersStack(ttlSeconds: number): Promise<OrdersStack> {
  const stack = await startStack({ services: ['listings', 'orders'], env: { ORDER_TTL_SECONDS: String(ttlSeconds) } });
  const api = client(stack);
  const [seller, buyer, other] = await Promise.all([api.signUp('Seller'), api.signUp('Buyer'), api.signUp('Other')]);
  return { stack, api, seller, buyer, other };
}
