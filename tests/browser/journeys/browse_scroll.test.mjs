// Browse: filters, sort, and infinite scroll over the keyset cursor (every listing once, in
// price order); "near me" falls back to a city when the browser gives no position.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, apiListing, apiUser, close, person, shots, unique, until, PHONE } from '../lib.mjs';

after(close);

test('infinite scroll walks the cursor, and a city stands in for a refused position', async () => {
  const api = await apiClient();
  const seller = await apiUser(api, 'Scroll Seller');
  const word = unique('qz').replace(/[^a-z]/g, 'y').replace(/s$/, 'y');
  const n = 27;   // more than one page (20)
  for (let i = 0; i < n; i++) {
    await apiListing(api, seller, { title: `Mug ${word} number ${i}`, price_minor: 100 + i,
      location: { city: 'Vienna', country: 'AT', lat: 48.2082, lon: 16.3738 } });
  }
  const p = await person({ viewport: PHONE });   // no geolocation permission: "near me" is refused
  await p.page.goto('/#/');
  await p.page.getByLabel('Search for').fill(word);
  await p.page.getByText('Filters and sorting').click();
  await p.page.getByLabel('Sort by').selectOption('price_asc');
  await p.page.getByRole('button', { name: 'Near me' }).click();
  await p.page.getByText('Your position is not available: choose a city instead.').waitFor();
  await p.page.getByLabel('or a city').selectOption({ label: 'Vienna (AT)' });
  await p.page.getByLabel('Within (km)').fill('10');
  const cards = p.page.locator('ul.grid > li');
  await until(async () => {
    if ((await p.page.locator('details.filters[open]').count()) === 0) await p.page.getByText('Filters and sorting').click();
    await p.page.getByRole('button', { name: 'Apply' }).click();
    await p.page.waitForURL(/near=48\.2082/);
    return (await cards.count()) >= 20;
  }, 'the first page', 15000);
  assert.match(p.page.url(), /sort=price_asc/);
  assert.match(p.page.url(), /radius_km=10/);
  // scroll to the end: the sentinel loads the next page by itself
  await until(async () => {
    await p.page.locator('.more, ul.grid > li:last-child').last().scrollIntoViewIfNeeded();
    await p.page.mouse.wheel(0, 4000);
    return (await cards.count()) === n;
  }, 'the second page by scrolling', 15000);
  const titles = await p.page.locator('.card-title').allInnerTexts();
  assert.deepEqual(titles, Array.from({ length: n }, (_, i) => `Mug ${word} number ${i}`));
  assert.equal(await p.page.getByRole('button', { name: 'Load more' }).count(), 0);
  await shots(p.page, 'browse-scrolled');
  await api.dispose();
  await p.done();
});
