import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, path, query, type Listing, type Order, type Page } from '../api';
import { ErrorAlert, Loading } from '../components/Alert';
import { StatusBadge } from '../components/StatusBadge';
import { useAction, useLoad, useTitle } from '../hooks';
import { RESERVED_SENTENCE, rememberListing } from '../listings';
import { onListingChange, onLiveReset } from '../live';
import { formatPrice } from '../money';
import { href, navigate, signInPath } from '../router';
import { useUser } from '../session';

/** The caller's pending order for a listing, if they hold it. */
async function pendingOrderFor(listingId: string): Promise<Order | null> {
  const orders = await api.get<Page<Order>>(`/orders${query({ status: 'pending', limit: 100 })}`);
  return orders.items.find((o) => o.listingId === listingId) ?? null;
}

export function ListingPage({ id }: { id: string }) {
  const user = useUser();
  const listing = useLoad(() => api.get<{ listing: Listing }>(path('listings', id), { auth: false }).then((r) => rememberListing(r.listing)), [id]);
  const { update, reload } = listing;
  const [deleted, setDeleted] = useState(false);
  // Whether the viewer holds the reservation: checked once per reservation (the listing's version).
  const [hold, setHold] = useState<{ version: number; order: Order | null } | null>(null);
  const buy = useAction();
  const data = listing.data;
  useTitle(data?.title ?? 'Listing');

  useEffect(
    () =>
      onListingChange((change) => {
        if (change.listing.id !== id) return;
        if (change.type === 'deleted') setDeleted(true);
        else update((current) => (change.listing.version >= current.version ? change.listing : current));
      }),
    [id, update],
  );
  useEffect(() => onLiveReset(reload), [reload]);

  const reserved = data?.status === 'reserved';
  const mine = !!user && data?.sellerId === user.id;
  const holdKnown = hold !== null && hold.version === data?.version;
  const version = data?.version;
  const signedIn = !!user;
  useEffect(() => {
    if (!reserved || !signedIn || mine || holdKnown || version === undefined) return;
    let stale = false;
    pendingOrderFor(id).then(
      (order) => !stale && setHold({ version, order }),
      () => !stale && setHold({ version, order: null }),
    );
    return () => {
      stale = true;
    };
  }, [reserved, signedIn, mine, holdKnown, version, id]);

  async function onBuy() {
    if (!user) {
      navigate(signInPath(`/listings/${id}`));
      return;
    }
    await buy.run(async () => {
      try {
        const { order } = await api.post<{ order: Order }>('/orders', { listingId: id });
        navigate(`/checkout/${order.id}`);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.code === 'already_holding') {
          const order = await pendingOrderFor(id);
          if (order) return navigate(`/checkout/${order.id}`);
        }
        // Somebody else was quicker: the page shows the problem's sentence in place of Buy.
        if (err.code === 'listing_reserved' && data) {
          setHold({ version: data.version + 1, order: null });
          update((current) => (current.status === 'available' ? { ...current, status: 'reserved', version: current.version + 1 } : current));
          return;
        }
        if (err.code === 'listing_sold') update((current) => ({ ...current, status: 'sold' }));
        throw err;
      }
    });
  }

  if (deleted) {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          {data?.title ?? 'Listing'}
        </h1>
        <p role="status">The seller removed this listing.</p>
        <p>
          <a href={href('/')}>Back to the listings</a>
        </p>
      </section>
    );
  }

  const heldOrder = holdKnown ? hold.order : null;
  const showSentence = !!data && reserved && !mine && (!user || (holdKnown && !heldOrder));
  return (
    <section aria-labelledby="page-title" aria-busy={listing.loading ? 'true' : 'false'}>
      <h1 id="page-title" tabIndex={-1}>
        {data ? data.title : listing.error ? 'Listing' : 'Loading…'}
      </h1>
      <ErrorAlert error={listing.error} />
      {data && (
        <>
          <div class="listing-summary">
            <span class="price price-large">{formatPrice(data.priceCents, data.currency)}</span>
            <StatusBadge status={data.status} testId="listing-status" live />
          </div>
          {data.description && <p class="description">{data.description}</p>}
          <div class="actions">
            {mine && (
              <p>
                This is your listing.{' '}
                {data.status === 'available' && <a href={href(`/listings/${id}/edit`)}>Edit listing</a>}
              </p>
            )}
            {data.status === 'available' && !mine && (
              <button type="button" class="primary" onClick={onBuy} disabled={buy.busy}>
                Buy
              </button>
            )}
            {reserved && heldOrder && (
              <p>
                You are checking this out. <a href={href(`/checkout/${heldOrder.id}`)}>Continue to checkout</a>
              </p>
            )}
            {reserved && !mine && user && !holdKnown && <Loading />}
            <p role="status" class="notice warn">
              {showSentence ? RESERVED_SENTENCE : ''}
            </p>
          </div>
          <ErrorAlert error={buy.error} />
        </>
      )}
    </section>
  );
}
