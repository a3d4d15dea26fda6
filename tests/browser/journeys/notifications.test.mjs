// Notifications (issue 12): a favourite's price drops, the unread badge shows it, the
// notification links to the listing, and "mark all as read" clears the badge. Skips until the
// notifications API is on main.
import { test, after } from 'node:test';
import { apiClient, apiListing, apiUser, close, person, shots, signUp, until } from '../lib.mjs';

after(close);

test('a price drop of a favourite shows as an unread notification and is marked read', async () => {
  const api = await apiClient();
  const seller = await apiUser(api, 'Notify Seller');
  const l = await apiListing(api, seller, { title: 'Wool blanket', price_minor: 4000 });
  const b = await person();
  await signUp(b.page, 'Nina Notify');
  await b.page.goto(`/#/listing/${l.id}`);
  await b.page.getByRole('button', { name: /Add to favourites/ }).click();
  await b.page.getByText('Saved to your favourites.').waitFor();
  const etag = (await api.get(`/api/v1/listings/${l.id}`, { headers: seller.headers })).headers().etag;
  await api.patch(`/api/v1/listings/${l.id}`, { data: { price_minor: 3000 }, headers: { ...seller.headers, 'If-Match': etag } });
  const link = b.page.getByRole('link', { name: 'Notifications, 1 unread' });
  await until(async () => { await b.page.reload(); return link.isVisible(); }, 'the unread badge', 15000);
  await link.click();
  await b.page.getByRole('link', { name: /A favourite dropped its price/ }).waitFor();
  await shots(b.page, 'notifications');
  await b.page.getByRole('button', { name: 'Mark all as read' }).click();
  await b.page.getByRole('link', { name: 'Notifications, 0 unread' }).waitFor();
  await api.dispose();
  await b.done();
});
