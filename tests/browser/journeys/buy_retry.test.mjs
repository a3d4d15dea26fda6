// Buying keeps its Idempotency-Key across a retry: the first answer is lost on the way back
// (the order was made), the buyer presses "Try again", the same key and body go out, and
// there is one order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, apiListing, apiUser, close, person, signUp } from '../lib.mjs';

after(close);

test('a retried purchase sends the same Idempotency-Key and makes one order', async () => {
  const api = await apiClient();
  const seller = await apiUser(api, 'Retry Seller');
  const l = await apiListing(api, seller, { title: 'Camping stove', attributes: { author: 'n/a' } });
  const p = await person();
  await signUp(p.page, 'Rita Retry');
  const keys = [];
  let first = true;
  await p.page.route('**/api/v1/orders', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    const res = await route.fetch();          // the server makes the order ...
    if (first) {
      first = false;
      await route.abort('connectionreset');   // ... and the answer is lost
    } else {
      await route.fulfill({ response: res });
    }
  });
  await p.page.goto(`/#/buy/${l.id}`);
  await p.page.getByLabel('Full name').fill('Rita Retry');
  await p.page.getByLabel('Address', { exact: true }).fill('Main St 5');
  await p.page.getByLabel('City').fill('Berlin');
  await p.page.getByLabel('Postal code').fill('10117');
  await p.page.getByLabel('Country code (two letters)').fill('DE');
  p.expectFailure(/\/api\/v1\/orders$/);   // the reset connection
  await p.page.getByRole('button', { name: 'Pay and place order' }).click();
  await p.page.getByRole('alert').filter({ hasText: 'you will not be charged twice' }).waitFor();
  await p.page.getByRole('button', { name: 'Try again' }).click();
  await p.page.waitForURL(/#\/orders/);
  await p.page.getByRole('listitem', { name: 'Order for Camping stove' }).waitFor();
  assert.equal(keys.length, 2);
  assert.ok(keys[0] && keys[0].length >= 1);
  assert.equal(keys[0], keys[1]);
  const r = await api.get('/api/v1/orders?role=seller', { headers: seller.headers });
  const orders = (await r.json()).items.filter((o) => o.listing_id === l.id);
  assert.equal(orders.length, 1);
  await api.dispose();
  await p.done();
});
