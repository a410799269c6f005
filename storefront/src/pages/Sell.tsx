import { useEffect } from 'preact/hooks';
import { api, ApiError, path, query, type Listing, type Page, type User } from '../api';
import { ErrorAlert, type FieldLabels, Loading } from '../components/Alert';
import { ListingForm, type ListingFormValues } from '../components/ListingForm';
import { ListingCard } from '../components/ListingCard';
import { useAction, useLoad, useTitle } from '../hooks';
import { getGoods, putGoodsFile, putGoodsText } from '../goods';
import { rememberListing, rememberListings } from '../listings';
import { applyChange, onListingChange, onLiveReset } from '../live';
import { isCurrency, toMajorText } from '../money';
import { href, navigate } from '../router';

export const LISTING_LABELS: FieldLabels = {
  title: 'Title',
  description: 'Description',
  priceCents: 'Price',
  currency: 'Currency',
  text: 'Goods text',
  file: 'Goods file',
  filename: 'Goods file',
};

/** The goods after the listing itself: a failure here leaves the listing, so the page says which part failed. */
class GoodsNotSaved extends Error {
  constructor(
    readonly listing: Listing,
    problem: unknown,
  ) {
    super(problem instanceof ApiError ? problem.problem.detail : problem instanceof Error ? problem.message : 'The goods were not saved.', { cause: problem });
  }
}

async function saveGoods(listing: Listing, text: string | undefined, file: File | null): Promise<void> {
  try {
    if (text !== undefined) await putGoodsText(listing.id, text);
    if (file) await putGoodsFile(listing.id, file);
  } catch (err) {
    throw new GoodsNotSaved(listing, err);
  }
}

function GoodsFailure({ error }: { error: unknown }) {
  if (!(error instanceof GoodsNotSaved)) return <ErrorAlert error={error} labels={LISTING_LABELS} />;
  return (
    <div role="alert" class="alert">
      <p>The listing is saved, but its goods are not: {error.message}</p>
      <p>
        <a href={href(`/listings/${error.listing.id}/edit`)}>Attach the goods to “{error.listing.title}”</a>
      </p>
    </div>
  );
}

export function SellPage({ user }: { user: User }) {
  useTitle('Sell');
  const mine = useLoad(
    () => api.get<Page<Listing>>(`/listings${query({ sellerId: user.id, limit: 100 })}`, { auth: false }).then((p) => ({ ...p, items: rememberListings(p.items) })),
    [user.id],
  );
  const { update, reload } = mine;
  const create = useAction();
  const remove = useAction();

  useEffect(
    () =>
      onListingChange((change) =>
        update((p) => {
          if (change.type === 'created' && change.listing.sellerId === user.id && !p.items.some((l) => l.id === change.listing.id)) {
            return { ...p, items: [change.listing, ...p.items], total: p.total + 1 };
          }
          const items = applyChange(p.items, change);
          return items === p.items ? p : { ...p, items };
        }),
      ),
    [update, user.id],
  );
  useEffect(() => onLiveReset(reload), [reload]);

  async function onCreate(values: ListingFormValues) {
    const created = await create.run(async () => {
      const { listing } = await api.post<{ listing: Listing }>('/listings', {
        title: values.title,
        description: values.description || undefined,
        priceCents: values.priceCents,
        currency: values.currency,
      });
      rememberListing(listing);
      await saveGoods(listing, values.goodsText.trim() ? values.goodsText : undefined, values.file);
      return listing;
    });
    if (created) navigate(`/listings/${created.id}`);
  }

  async function onDelete(listing: Listing) {
    const done = await remove.run(async () => {
      await api.del(path('listings', listing.id));
      return true;
    });
    if (done) update((p) => ({ ...p, items: p.items.filter((l) => l.id !== listing.id), total: p.total - 1 }));
  }

  const data = mine.data;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Sell
      </h1>
      <section aria-labelledby="yours-title" aria-busy={mine.loading ? 'true' : 'false'}>
        <h2 id="yours-title">Your listings</h2>
        <ErrorAlert error={mine.error} />
        {mine.loading && !data && <Loading />}
        {data && data.items.length === 0 && <p>You have not listed anything yet.</p>}
        {data && data.items.length > 0 && (
          <ul class="cards" aria-label="Your listings">
            {data.items.map((listing) => (
              <ListingCard key={listing.id} listing={listing}>
                {listing.status === 'available' && (
                  <span class="card-actions">
                    <a href={href(`/listings/${listing.id}/edit`)} aria-label={`Edit ${listing.title}`}>
                      Edit
                    </a>
                    <button type="button" class="link-button danger" aria-label={`Delete ${listing.title}`} disabled={remove.busy} onClick={() => onDelete(listing)}>
                      Delete
                    </button>
                  </span>
                )}
              </ListingCard>
            ))}
          </ul>
        )}
        <ErrorAlert error={remove.error} />
      </section>
      <section aria-labelledby="new-title">
        <h2 id="new-title">List something for sale</h2>
        <ListingForm submitLabel={create.busy ? 'Creating…' : 'Create listing'} busy={create.busy} onSubmit={onCreate}>
          <GoodsFailure error={create.error} />
        </ListingForm>
      </section>
    </section>
  );
}

export function EditListingPage({ id, user }: { id: string; user: User }) {
  useTitle('Edit listing');
  const loaded = useLoad(async () => {
    const { listing } = await api.get<{ listing: Listing }>(path('listings', id), { auth: false });
    rememberListing(listing);
    if (listing.sellerId !== user.id) return { listing, goods: null, goodsError: null };
    const goods = await getGoods(id).then(
      (g) => ({ goods: g, goodsError: null }),
      (err: unknown) => ({ goods: null, goodsError: err }),
    );
    return { listing, ...goods };
  }, [id, user.id]);
  const save = useAction();
  const remove = useAction();
  const data = loaded.data;

  async function onSave(values: ListingFormValues) {
    if (!data) return;
    const { listing, goods } = data;
    const saved = await save.run(async () => {
      const changes: { title?: string; description?: string; priceCents?: number } = {};
      if (values.title.trim() !== listing.title) changes.title = values.title;
      if (values.description !== listing.description) changes.description = values.description;
      if (values.priceCents !== listing.priceCents) changes.priceCents = values.priceCents;
      const before = goods?.text ?? '';
      if (before && !values.goodsText.trim()) throw new Error('The goods text can be replaced, not removed: type the new text.');
      let current = listing;
      if (Object.keys(changes).length > 0) current = rememberListing((await api.patch<{ listing: Listing }>(path('listings', id), changes)).listing);
      await saveGoods(current, values.goodsText.trim() && values.goodsText !== before ? values.goodsText : undefined, values.file);
      return current;
    });
    if (saved) navigate(`/listings/${id}`);
  }

  async function onDelete() {
    await remove.run(async () => {
      await api.del(path('listings', id));
      navigate('/sell');
    });
  }

  const listing = data?.listing;
  const currency = listing && isCurrency(listing.currency) ? listing.currency : undefined;
  return (
    <section aria-labelledby="page-title" aria-busy={loaded.loading ? 'true' : 'false'}>
      <h1 id="page-title" tabIndex={-1}>
        Edit listing
      </h1>
      <ErrorAlert error={loaded.error} />
      {loaded.loading && !data && <Loading />}
      {listing && listing.sellerId !== user.id && <p role="alert">Only the seller can edit this listing.</p>}
      {listing && currency && listing.sellerId === user.id && (
        <>
          {listing.status !== 'available' && <p role="status">A listing can be changed only while nobody is buying it and it is not yet paid for.</p>}
          <ErrorAlert error={data.goodsError} />
          <ListingForm
            initial={{ title: listing.title, description: listing.description, priceText: toMajorText(listing.priceCents, currency), currency, goodsText: data.goods?.text ?? '' }}
            currencyLocked
            currentFile={data.goods?.file}
            submitLabel={save.busy ? 'Saving…' : 'Save'}
            busy={save.busy || remove.busy}
            onSubmit={onSave}
            extraButtons={
              <button type="button" class="danger" onClick={onDelete} disabled={save.busy || remove.busy}>
                Delete listing
              </button>
            }
          >
            <GoodsFailure error={save.error} />
            <ErrorAlert error={remove.error} />
          </ListingForm>
        </>
      )}
    </section>
  );
}
