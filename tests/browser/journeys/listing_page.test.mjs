// The shared page /l/{id}: rendered by the query pool with its tags, cached by nginx for
// anonymous readers, purged when the listing changes, linked from the client, and a 404
// page for a listing that does not exist.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, apiListing, apiUser, BASE, close, person, shots, until } from '../lib.mjs';

after(close);

test('the shared page renders, is cached, is purged on a change, and opens the listing in the client', async () => {
  const api = await apiClient();
  const seller = await apiUser(api, 'Page <Seller> & "Co"');
  const l = await apiListing(api, seller, { title: 'Lamp </script><script>alert(1)</script>', price_minor: 1999 });
  await until(async () => (await api.get(`/api/v1/listings/${l.id}`, { headers: { 'X-Min-Seq': l.seq } })).status() === 200, 'the listing');

  const r1 = await api.get(`/l/${l.id}`);
  assert.equal(r1.status(), 200);
  assert.match(r1.headers()['content-type'], /^text\/html/);
  assert.match(r1.headers()['content-security-policy'], /style-src 'sha256-/);
  const html = await r1.text();
  assert.ok(html.includes(`<link rel="canonical" href="${BASE}/l/${l.id}">`));
  assert.ok(html.includes(`<meta property="og:url" content="${BASE}/l/${l.id}">`));
  assert.equal((html.match(/<script/g) || []).length, 1);
  const ld = JSON.parse(html.match(/<script type="application\/ld\+json">(.*?)<\/script>/s)[1]);
  assert.equal(ld['@type'], 'Product');
  assert.equal(ld.name, 'Lamp </script><script>alert(1)</script>');
  assert.equal(ld.offers.price, '19.99');
  const r2 = await api.get(`/l/${l.id}`);
  assert.equal(r2.headers()['x-cache-status'], 'HIT');

  // a change purges the page at once (well within its micro-cache TTL)
  const etag = (await api.get(`/api/v1/listings/${l.id}`, { headers: { ...seller.headers } })).headers().etag;
  const p = await api.patch(`/api/v1/listings/${l.id}`, { data: { price_minor: 1500 }, headers: { ...seller.headers, 'If-Match': etag } });
  assert.equal(p.status(), 200, await p.text());
  await until(async () => (await (await api.get(`/l/${l.id}`)).text()).includes('"price":"15.00"'), 'the purged page', 3000);

  const b = await person();
  await b.page.goto(`/l/${l.id}`);
  await b.page.getByRole('heading', { level: 1, name: 'Lamp </script><script>alert(1)</script>' }).waitFor();
  await b.page.getByText('Page <Seller> & "Co"').waitFor();
  await shots(b.page, 'listing-page');
  await b.page.getByRole('link', { name: 'Open in marketd' }).click();
  await b.page.waitForURL(new RegExp(`#/listing/${l.id}$`));
  await b.page.getByRole('link', { name: `${BASE}/l/${l.id}` }).waitFor();

  // a draft and a deleted listing are "not found" pages; the deletion purges the cached page
  const draft = await apiListing(api, seller, { title: 'Draft desk', status: 'draft' });
  await until(async () => (await api.get(`/api/v1/listings/${draft.id}`, { headers: { ...seller.headers, 'X-Min-Seq': draft.seq } })).status() === 200, 'the draft');
  assert.equal((await api.get(`/l/${draft.id}`)).status(), 404);
  const gone = await api.delete(`/api/v1/listings/${l.id}`, { headers: seller.headers });
  assert.equal(gone.status(), 204, await gone.text());
  await until(async () => (await api.get(`/l/${l.id}`)).status() === 404, 'the deleted listing\'s 404 page', 3000);

  const nf = await api.get('/l/00000000-0000-4000-8000-000000000000');
  assert.equal(nf.status(), 404);
  assert.match(await nf.text(), /No such listing/);
  b.expectFailure(/\/l\/not-a-listing$/);
  await b.page.goto('/l/not-a-listing');
  await b.page.getByRole('heading', { name: 'No such listing' }).waitFor();
  await api.dispose();
  await b.done();
});
