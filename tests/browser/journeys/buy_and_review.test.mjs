// The whole sale in the browser: a seller lists a phone (the category's form with its
// inherited attributes) with a photo uploaded straight to the object store; a buyer finds
// it by a word and by distance ("near me"), favourites it and buys it; the seller ships;
// the buyer confirms and reviews; the rating shows on the seller's profile and on the
// listing's shared page.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { close, person, png, shots, signUp, unique, until, DESKTOP, PHONE } from '../lib.mjs';

after(close);

test('a seller lists with a photo, a buyer finds, favourites, buys, the seller ships, the buyer confirms and reviews', async () => {
  const word = unique('zq').replace(/[^a-z]/g, 'x').replace(/s$/, 'x');   // one search word, no plural s
  const berlin = { latitude: 52.52, longitude: 13.405 };

  // --- the seller lists an item with a photo
  const s = await person({ viewport: DESKTOP, geolocation: berlin });
  const seller = await signUp(s.page, 'Sally Seller');
  await s.page.getByRole('link', { name: 'Sell', exact: true }).click();
  await s.page.getByLabel('Title').fill(`Pixel phone ${word}`);
  await s.page.getByLabel('Description').fill('Works perfectly. <b>Not bold</b> & no scratches.');
  await s.page.getByLabel('Category').selectOption('phones');
  // brand comes from the parent category (electronics), storage_gb from phones itself
  await s.page.getByLabel('brand (required)').fill('Google');
  await s.page.getByLabel('storage gb (required)').fill('128');
  await s.page.getByLabel('Condition').selectOption('like_new');
  await s.page.getByLabel('Price').fill('249.00');
  await s.page.getByLabel('City').fill('Berlin');
  await s.page.getByLabel('Country code').fill('DE');
  await s.page.getByRole('button', { name: 'Use my position' }).click();
  await until(async () => (await s.page.getByLabel('Latitude').inputValue()) !== '', 'the position');
  await s.page.getByLabel('Add photos').setInputFiles({ name: 'phone.png', mimeType: 'image/png', buffer: png(640, 480) });
  await shots(s.page, 'sell-form');
  await s.page.getByRole('button', { name: 'Publish' }).click();
  await s.page.waitForURL(/#\/listing\/[0-9a-f-]{36}$/);
  const listingId = s.page.url().match(/listing\/([0-9a-f-]{36})/)[1];
  await s.page.getByRole('heading', { level: 1, name: `Pixel phone ${word}` }).waitFor();
  await s.page.getByRole('img', { name: `Photo 1 of 1: Pixel phone ${word}` }).waitFor();

  // --- the buyer finds it by the word and by distance, on a phone
  const b = await person({ viewport: PHONE, geolocation: { latitude: 52.53, longitude: 13.42 } });
  await signUp(b.page, 'Bob Buyer');
  await b.page.goto('/#/');
  await b.page.getByLabel('Search for').fill(word);
  const card = b.page.getByRole('link', { name: `Pixel phone ${word}` });
  await until(async () => {
    if ((await b.page.locator('details.filters[open]').count()) === 0) await b.page.getByText('Filters and sorting').click();
    await b.page.getByRole('button', { name: 'Near me' }).click();   // geolocation, then search by distance
    await b.page.waitForURL(/near=52\.53/);
    return card.isVisible({ timeout: 1000 }).catch(() => false) && card.isVisible();
  }, 'the listing in search results', 15000);
  assert.match(b.page.url(), /q=zq/);
  assert.match(b.page.url(), /sort=distance/);
  assert.match(await b.page.locator('.card', { has: card }).innerText(), /km/);
  await shots(b.page, 'search-near-me');
  await card.click();
  await b.page.getByRole('heading', { level: 1, name: `Pixel phone ${word}` }).waitFor();
  await b.page.getByRole('link', { name: 'Sally Seller' }).waitFor();
  await b.page.getByRole('button', { name: /Add to favourites/ }).click();
  await b.page.getByText('Saved to your favourites.').waitFor();
  await shots(b.page, 'listing');

  // --- the buyer buys it
  await b.page.getByRole('link', { name: 'Buy now' }).click();
  await b.page.getByLabel('Full name').fill('Bob Buyer');
  await b.page.getByLabel('Address', { exact: true }).fill('Hauptstr. 1');
  await b.page.getByLabel('City').fill('Berlin');
  await b.page.getByLabel('Postal code').fill('10115');
  await b.page.getByLabel('Country code (two letters)').fill('DE');
  await shots(b.page, 'checkout');
  await b.page.getByRole('button', { name: 'Pay and place order' }).click();
  await b.page.waitForURL(/#\/orders/);
  const order = b.page.getByRole('listitem', { name: `Order for Pixel phone ${word}` });
  await order.getByText('paid').waitFor();

  // --- the seller ships
  await s.page.goto('/#/orders?role=seller');
  const sale = s.page.getByRole('listitem', { name: `Order for Pixel phone ${word}` });
  await sale.getByLabel('Carrier').fill('DHL');
  await sale.getByLabel('Tracking number').fill('JD0123456789');
  await sale.getByRole('button', { name: 'Mark as shipped' }).click();
  await sale.getByText('Marked as shipped.').waitFor();
  await sale.getByText('Tracking: DHL JD0123456789').waitFor();
  await shots(s.page, 'orders-seller');

  // --- the buyer confirms and reviews
  await b.page.reload();
  await order.getByRole('button', { name: 'Confirm delivery' }).click();
  await order.getByText('Delivery confirmed; the seller is paid.').waitFor();
  await order.getByLabel('4 stars').check();
  await order.getByLabel('Comment (optional)').fill('Quick and friendly <script>alert(1)</script>');
  await order.getByRole('button', { name: 'Submit review' }).click();
  await order.getByText('Thank you for your review.').waitFor();
  await shots(b.page, 'orders-buyer');

  // --- the rating on the seller's profile (eventually consistent: reload until projected)
  await b.page.goto(`/#/users/${seller.id}`);
  await until(async () => {
    await b.page.reload();
    return b.page.getByLabel('Rated 4 out of 5 from 1 review').isVisible();
  }, 'the rating on the profile', 15000);
  await b.page.getByText('Quick and friendly <script>alert(1)</script>').waitFor();
  await shots(b.page, 'profile');

  // --- the shared page says sold, with the rating
  await b.page.goto(`/l/${listingId}`);
  await b.page.getByText('This item is sold.').waitFor();
  await b.page.getByText('rated 4.0 out of 5 (1 review)').waitFor();
  await shots(b.page, 'shared-page');

  await s.done();
  await b.done();
});
