import { client } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { RATE_LIMIT_MAX: '5', TRUST_PROXY: 'false' } });
});
afterAll(() => stack.stop());

test('without TRUST_PROXY a spoofed X-Forwarded-For does not buy a fresh limit', async () => {
  const api = client(stack);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await api.get('/listings', undefined, { 'x-forwarded-for': `192.0.2.${i}` })).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
});
