import { client } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'] });
});
afterAll(() => stack.stop());

test('a user signs up, lists a ticket and reads it back', async () => {
  const api = client(stack);
  const seller = await api.signUp('Seller');
  const listing = await api.createListing(seller.accessToken);
  const read = await api.get(`/listings/${listing.id}`);
  expect(read.status).toBe(200);
  expect(read.body.listing.title).toBe('Concert ticket');
});
