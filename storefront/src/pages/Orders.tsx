import { api, path, query, type BoughtGoods, type Listing, type Order, type Page } from '../api';
import { ErrorAlert, Loading } from '../components/Alert';
import { useLoad, useTitle } from '../hooks';
import { knownListing, rememberListings, useKnownListing } from '../listings';
import { formatPrice } from '../money';
import { href } from '../router';

const dateTime = (iso: string): string => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Titles of the orders' listings: those this page has seen, then one read of the newest listings for the rest. */
async function loadTitles(orders: Order[]): Promise<void> {
  if (orders.every((o) => knownListing(o.listingId))) return;
  const page = await api.get<Page<Listing>>(`/listings${query({ limit: 100 })}`, { auth: false });
  rememberListings(page.items);
}

export function OrdersPage() {
  useTitle('My orders');
  const orders = useLoad(async () => {
    const page = await api.get<Page<Order>>(`/orders${query({ limit: 100 })}`);
    await loadTitles(page.items).catch(() => undefined);
    return page;
  }, []);
  const data = orders.data;
  return (
    <section aria-labelledby="page-title" aria-busy={orders.loading ? 'true' : 'false'}>
      <h1 id="page-title" tabIndex={-1}>
        My orders
      </h1>
      <ErrorAlert error={orders.error} />
      {orders.loading && !data && <Loading />}
      {data && data.items.length === 0 && (
        <p>
          No orders yet. <a href={href('/')}>Browse the listings</a>
        </p>
      )}
      {data && data.items.length > 0 && (
        <ul class="cards" aria-label="Orders">
          {data.items.map((order) => (
            <li key={order.id} class="card">
              <a class="card-title" href={href(`/orders/${order.id}`)}>
                {knownListing(order.listingId)?.title ?? 'A listing no longer shown'} <span class={`order-status order-${order.status}`}>{order.status}</span>
              </a>
              <span class="price">{formatPrice(order.priceCents, order.currency)}</span>
              <span class="muted">{dateTime(order.createdAt)}</span>
            </li>
          ))}
        </ul>
      )}
      {data && data.total > data.items.length && <p class="muted">Showing your {data.items.length} newest orders.</p>}
    </section>
  );
}

const size = (bytes: number): string =>
  bytes < 1024 ? `${bytes} bytes` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function OrderPage({ id }: { id: string }) {
  useTitle('Order');
  const order = useLoad(() => api.get<{ order: Order }>(path('orders', id)).then((r) => r.order), [id]);
  const data = order.data;
  const listingId = data?.listingId;
  const listing = useKnownListing(listingId);

  return (
    <section aria-labelledby="page-title" aria-busy={order.loading ? 'true' : 'false'}>
      <h1 id="page-title" tabIndex={-1}>
        Order
      </h1>
      <ErrorAlert error={order.error} />
      {order.loading && !data && <Loading />}
      {data && (
        <>
          <dl class="facts">
            <dt>Listing</dt>
            <dd>{listing ? <a href={href(`/listings/${listing.id}`)}>{listing.title}</a> : 'A listing no longer shown'}</dd>
            <dt>Price</dt>
            <dd>{formatPrice(data.priceCents, data.currency)}</dd>
            <dt>Status</dt>
            <dd>
              <span data-testid="order-status" class={`order-status order-${data.status}`}>
                {data.status}
              </span>
            </dd>
            <dt>Ordered</dt>
            <dd>{dateTime(data.createdAt)}</dd>
          </dl>
          {data.status === 'pending' && (
            <p>
              <a class="button primary" href={href(`/checkout/${data.id}`)}>
                Continue to checkout
              </a>
            </p>
          )}
          {data.status === 'complete' && <Goods orderId={data.id} />}
        </>
      )}
    </section>
  );
}

/** The goods of a complete order, with a download link made fresh for this visit. */
function Goods({ orderId }: { orderId: string }) {
  const goods = useLoad(() => api.get<{ goods: BoughtGoods }>(`${path('orders', orderId)}/goods`).then((r) => r.goods), [orderId]);
  const data = goods.data;
  return (
    <section class="goods" aria-labelledby="goods-title" aria-busy={goods.loading ? 'true' : 'false'}>
      <h2 id="goods-title">Your goods</h2>
      <ErrorAlert error={goods.error} />
      {goods.loading && !data && <Loading />}
      {data && !data.text && !data.file && <p>The seller has not attached anything to this listing.</p>}
      {data?.text && (
        <p class="goods-text" data-testid="goods-text">
          {data.text}
        </p>
      )}
      {data?.file && (
        <p>
          <a class="button" href={data.file.url} download={data.file.name}>
            Download {data.file.name}
          </a>{' '}
          <span class="muted">
            {size(data.file.size)}; the link works for a limited time and a few downloads, until {new Date(data.file.expiresAt).toLocaleTimeString()}.
          </span>
        </p>
      )}
    </section>
  );
}
