import type { ComponentChildren } from 'preact';
import type { Listing } from '../api';
import { formatPrice } from '../money';
import { href } from '../router';
import { StatusBadge } from './StatusBadge';

/** One listing in a list: its title (a link to its page), price and status, then whatever the page adds. */
export function ListingCard({ listing, children }: { listing: Listing; children?: ComponentChildren }) {
  return (
    <li class="card">
      <a class="card-title" href={href(`/listings/${listing.id}`)}>
        {listing.title}
      </a>
      <span class="price">{formatPrice(listing.priceCents, listing.currency)}</span>
      <StatusBadge status={listing.status} />
      {children}
    </li>
  );
}
