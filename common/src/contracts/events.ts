import { z } from 'zod';
import { id } from './common';
import { listing } from './listings';
import { order } from './orders';
import { payment } from './payments';

const listingEvent = z.object({ listing });
const orderEvent = z.object({ order });

/** Every event on the bus, named as a past-tense fact, with the schema its payload must satisfy. */
export const eventSchemas = {
  'user.deleted': z.object({ userId: id }),
  'listing.created': listingEvent,
  'listing.updated': listingEvent,
  'listing.deleted': listingEvent,
  'listing.reserved': listingEvent,
  'listing.released': listingEvent,
  'listing.sold': listingEvent,
  'order.created': orderEvent,
  'order.cancelled': orderEvent,
  'order.expired': orderEvent,
  'order.completed': orderEvent,
  'payment.succeeded': z.object({ payment }),
  'payment.refunded': z.object({ payment }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventMap = { [K in EventType]: z.infer<(typeof eventSchemas)[K]> };
