import type { RouteDeps } from './deps';
import { listingRoutes } from './listings';
import { orderRoutes } from './orders';
import { paymentRoutes } from './payments';
import type { AnyRoute } from './route';
import { userRoutes } from './users';

/** Every public route of the contract, in one table: the router and the OpenAPI document both read it. */
export function allRoutes(deps: RouteDeps): AnyRoute[] {
  return [...userRoutes(deps), ...listingRoutes(deps), ...orderRoutes(deps), ...paymentRoutes(deps)];
}
