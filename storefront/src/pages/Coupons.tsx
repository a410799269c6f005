import { useState } from 'preact/hooks';
import { api, type Coupon, type NewCoupon, type User } from '../api';
import { ErrorAlert, Loading } from '../components/Alert';
import { useAction, useLoad, useTitle } from '../hooks';
import { isAdmin } from '../session';

const PAGE_SIZE = 20;
const LABELS = { percentOff: 'Percent off', code: 'Code', maxRedemptions: 'Max redemptions', expiresAt: 'Expires' };
const date = (iso: string | null): string => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');

export function CouponsPage({ user }: { user: User }) {
  useTitle('Coupons');
  const admin = isAdmin(user);
  const coupons = useLoad(() => (admin ? api.get<{ items: Coupon[] }>('/coupons?limit=100').then((r) => r.items) : Promise.resolve([])), [admin]);
  const [page, setPage] = useState(1);
  const [percentOff, setPercentOff] = useState('');
  const [code, setCode] = useState('');
  const [maxRedemptions, setMaxRedemptions] = useState('');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<Coupon | null>(null);
  const create = useAction();

  if (!admin) {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Coupons
        </h1>
        <p role="alert">Only an admin can manage coupons.</p>
      </section>
    );
  }

  async function onCreate(event: Event) {
    event.preventDefault();
    const body: NewCoupon = { percentOff: Number(percentOff) };
    if (code.trim()) body.code = code.trim();
    if (maxRedemptions.trim()) body.maxRedemptions = Number(maxRedemptions);
    if (expires) body.expiresAt = new Date(expires).toISOString();
    const reply = await create.run(() => api.post<{ coupon: Coupon }>('/coupons', body));
    if (!reply) return;
    setCreated(reply.coupon);
    setPercentOff('');
    setCode('');
    setMaxRedemptions('');
    setExpires('');
    setPage(1);
    coupons.update((items) => [reply.coupon, ...items.filter((c) => c.id !== reply.coupon.id)]);
  }

  const items = coupons.data ?? [];
  const pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
  const shown = items.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Coupons
      </h1>
      <section aria-labelledby="new-coupon">
        <h2 id="new-coupon">New coupon</h2>
        <form class="form" onSubmit={onCreate}>
          <div class="field-row">
            <div class="field">
              <label for="percent-off">Percent off</label>
              <input id="percent-off" name="percentOff" type="number" required min={1} max={100} step={1} value={percentOff} onInput={(e) => setPercentOff(e.currentTarget.value)} />
            </div>
            <div class="field">
              <label for="code">Code (optional)</label>
              <input
                id="code"
                name="code"
                maxLength={40}
                pattern="[A-Za-z0-9_\-]{3,40}"
                autoCapitalize="characters"
                spellcheck={false}
                aria-describedby="code-hint"
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
              />
              <p id="code-hint" class="hint">
                3–40 letters, digits, _ or -; one is made up when empty.
              </p>
            </div>
          </div>
          <div class="field-row">
            <div class="field">
              <label for="max-redemptions">Max redemptions (optional)</label>
              <input id="max-redemptions" name="maxRedemptions" type="number" min={1} max={1000000} step={1} value={maxRedemptions} onInput={(e) => setMaxRedemptions(e.currentTarget.value)} />
            </div>
            <div class="field">
              <label for="expires">Expires (optional)</label>
              <input id="expires" name="expiresAt" type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
            </div>
          </div>
          <ErrorAlert error={create.error} labels={LABELS} />
          <p role="status" class="notice ok">
            {created ? `Created coupon ${created.code} (${created.percentOff}% off).` : ''}
          </p>
          <div class="buttons">
            <button type="submit" class="primary" disabled={create.busy}>
              Create coupon
            </button>
          </div>
        </form>
      </section>
      <section aria-labelledby="all-coupons" aria-busy={coupons.loading ? 'true' : 'false'}>
        <h2 id="all-coupons">All coupons</h2>
        <ErrorAlert error={coupons.error} />
        {coupons.loading && !coupons.data && <Loading />}
        {coupons.data && items.length === 0 && <p>No coupons yet.</p>}
        {items.length > 0 && (
          <div class="table-scroll" tabIndex={0} role="region" aria-labelledby="all-coupons">
            <table>
              <caption class="visually-hidden">
                Coupons, page {page} of {pages}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Code</th>
                  <th scope="col">Percent off</th>
                  <th scope="col">Redemptions</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((c) => (
                  <tr key={c.id}>
                    <th scope="row">
                      <code>{c.code}</code>
                    </th>
                    <td>{c.percentOff}%</td>
                    <td>
                      {c.redemptions}
                      {c.maxRedemptions !== null ? ` of ${c.maxRedemptions}` : ''}
                    </td>
                    <td>{date(c.expiresAt)}</td>
                    <td>{date(c.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {pages > 1 && (
          <nav class="pager" aria-label="Coupon pages">
            <button type="button" disabled={page <= 1} onClick={() => setPage((p) => p - 1)}>
              Previous page
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" disabled={page >= pages} onClick={() => setPage((p) => p + 1)}>
              Next page
            </button>
          </nav>
        )}
      </section>
    </section>
  );
}
