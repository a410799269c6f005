import type { RouteDeps } from './deps';
import { goodsRoutes } from './goods';
import { keyRoutes } from './keys';
import { listingRoutes } from './listings';
import { orderRoutes } from './orders';
import { paymentRoutes } from './payments';
import type { AnyRoute } from './route';
import { userRoutes } from './users';
import { waitlistRoutes } from './waitlist';

/** Every public route of the contract, in one table: the router and the OpenAPI document both read it. */
export function allRoutes(deps: RouteDeps): AnyRoute[] {
  return [...keyRoutes(deps), ...userRoutes(deps), ...listingRoutes(deps), ...goodsRoutes(deps), ...orderRoutes(deps), ...waitlistRoutes(deps), ...paymentRoutes(deps)];
}
