// Where a checkout's time goes: the mean time of each hop of POST /orders, from the services' own
// Prometheus histograms (sums and counts), as the difference between two scrapes around a scenario.
//   gateway        POST /orders at the gateway, minus its orders.create call
//   orders-service orders.create as the gateway waited for it, minus orders-service's own call
//   listings       listings.reserve as orders-service waited for it (broker, listings-service, MySQL)

const HTTP = 'market_http_request_duration_seconds';
const RPC = 'market_rpc_client_duration_seconds';

/** `{ "<name>{labels}": value }` for the _sum and _count series of the two histograms. */
async function scrape(opsUrl) {
  const text = await (await fetch(new URL('/metrics', opsUrl))).text();
  const series = {};
  for (const line of text.split('\n')) {
    const m = /^(market_(?:http_request|rpc_client)_duration_seconds_(?:sum|count))\{([^}]*)\} (\S+)$/.exec(line);
    if (m) series[`${m[1]}{${m[2]}}`] = Number(m[3]);
  }
  return series;
}

/** Sum and count over the series of `metric` whose labels include every `key="value"` in `labels`. */
function total(series, metric, labels) {
  const out = { sum: 0, count: 0 };
  for (const [name, value] of Object.entries(series)) {
    const kind = name.startsWith(`${metric}_sum{`) ? 'sum' : name.startsWith(`${metric}_count{`) ? 'count' : undefined;
    if (!kind || !Object.entries(labels).every(([k, v]) => name.includes(`${k}="${v}"`))) continue;
    out[kind] += value;
  }
  return out;
}

const meanMs = (before, after) => {
  const count = after.count - before.count;
  return count > 0 ? ((after.sum - before.sum) / count) * 1000 : 0;
};

/** Scrapes now; `.finish()` scrapes again and returns each hop's mean ms and share of the whole. */
export async function startHopTimer({ gatewayOps, ordersOps }) {
  const read = async () => ({ gateway: await scrape(gatewayOps), orders: await scrape(ordersOps) });
  const before = await read();
  return {
    async finish() {
      const after = await read();
      const at = (side, metric, labels) => [total(before[side], metric, labels), total(after[side], metric, labels)];
      const whole = meanMs(...at('gateway', HTTP, { method: 'POST', route: '/orders', status: '201' }));
      const create = meanMs(...at('gateway', RPC, { method: 'orders.create', outcome: 'ok' }));
      const reserve = meanMs(...at('orders', RPC, { method: 'listings.reserve', outcome: 'ok' }));
      const hops = [
        { hop: 'gateway (auth, limit, validation, RPC client)', ms: whole - create },
        { hop: 'orders-service (bounds, transactions, outbox) + its broker hop', ms: create - reserve },
        { hop: 'listings.reserve (broker, listings-service, MySQL UPDATE)', ms: reserve },
      ];
      return { wholeMs: whole, hops: hops.map((h) => ({ ...h, share: whole > 0 ? h.ms / whole : 0 })) };
    },
  };
}

export function formatHops(breakdown) {
  return [
    `A checkout (POST /orders, 201) took ${breakdown.wholeMs.toFixed(1)} ms on average at the gateway:`,
    ...breakdown.hops.map((h) => `- ${h.hop}: ${h.ms.toFixed(1)} ms (${Math.round(h.share * 100)} %)`),
  ].join('\n');
}
