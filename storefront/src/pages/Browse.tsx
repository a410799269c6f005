import { useEffect, useState } from 'preact/hooks';
import { api, query, type Listing, type Page } from '../api';
import { ErrorAlert, Loading } from '../components/Alert';
import { ListingCard } from '../components/ListingCard';
import { useLoad, useTitle } from '../hooks';
import { rememberListings } from '../listings';
import { applyChange, onListingChange, onLiveReset } from '../live';
import { href, navigate } from '../router';

const PAGE_SIZE = 20;

const matches = (listing: Listing, q: string): boolean => {
  const needle = q.toLowerCase();
  return listing.title.toLowerCase().includes(needle) || listing.description.toLowerCase().includes(needle);
};

function browsePath(q: string, page: number): string {
  return `/${query({ q: q || undefined, page: page > 1 ? page : undefined })}`;
}

export function BrowsePage({ params }: { params: URLSearchParams }) {
  const q = (params.get('q') ?? '').trim().slice(0, 100);
  const page = Math.max(1, Math.floor(Number(params.get('page'))) || 1);
  const offset = (page - 1) * PAGE_SIZE;
  const [search, setSearch] = useState(q);
  useTitle(q ? `Listings matching “${q}”` : 'Listings');
  useEffect(() => setSearch(q), [q]);

  const listings = useLoad(
    () => api.get<Page<Listing>>(`/listings${query({ limit: PAGE_SIZE, offset, q: q || undefined })}`, { auth: false }).then((p) => ({ ...p, items: rememberListings(p.items) })),
    [q, offset],
  );
  const { update, reload } = listings;

  useEffect(
    () =>
      onListingChange((change) =>
        update((p) => {
          if (change.type === 'created') {
            const fits = offset === 0 && (!q || matches(change.listing, q)) && !p.items.some((l) => l.id === change.listing.id);
            return fits ? { ...p, items: [change.listing, ...p.items], total: p.total + 1 } : p;
          }
          const items = applyChange(p.items, change);
          return items === p.items ? p : { ...p, items, total: p.total - (p.items.length - items.length) };
        }),
      ),
    [update, offset, q],
  );
  useEffect(() => onLiveReset(reload), [reload]);

  function onSearch(event: Event) {
    event.preventDefault();
    navigate(browsePath(search.trim(), 1));
  }

  const data = listings.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;
  return (
    <section aria-labelledby="page-title" aria-busy={listings.loading ? 'true' : 'false'}>
      <h1 id="page-title" tabIndex={-1}>
        Listings
      </h1>
      <form role="search" class="search" onSubmit={onSearch}>
        <label for="search">Search</label>
        <input id="search" type="search" name="q" value={search} maxLength={100} onInput={(e) => setSearch(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      {q && (
        <p class="muted">
          Results for “{q}”. <a href={href('/')}>Show everything</a>
        </p>
      )}
      <ErrorAlert error={listings.error} />
      {listings.loading && !data && <Loading />}
      {data && data.items.length === 0 && <p>{q ? 'Nothing matches your search.' : 'Nothing is for sale yet.'}</p>}
      {data && data.items.length > 0 && (
        <ul class="cards" aria-label="Listings">
          {data.items.map((listing) => (
            <ListingCard key={listing.id} listing={listing} />
          ))}
        </ul>
      )}
      {data && pages > 1 && (
        <nav class="pager" aria-label="Pages">
          {page > 1 ? <a href={href(browsePath(q, page - 1))}>Previous page</a> : <span />}
          <span>
            Page {page} of {pages}
          </span>
          {page < pages ? <a href={href(browsePath(q, page + 1))}>Next page</a> : <span />}
        </nav>
      )}
    </section>
  );
}
