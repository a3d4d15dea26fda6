// Similar items (issue 13) on a listing's page. Skips until the insights API is on main.
import { test, after } from 'node:test';
import { apiClient, apiListing, apiUser, close, person, until } from '../lib.mjs';

after(close);

test('a listing page shows similar items of other sellers', async () => {
  const api = await apiClient();
  const a = await apiUser(api, 'Similar A');
  const b = await apiUser(api, 'Similar B');
  const l = await apiListing(api, a, { title: 'Hardcover atlas of birds' });
  await apiListing(api, b, { title: 'Paperback atlas of birds' });
  const p = await person();
  await until(async () => {
    await p.page.goto(`/#/listing/${l.id}`);
    await p.page.getByRole('heading', { level: 1 }).waitFor();
    return p.page.getByRole('link', { name: 'Paperback atlas of birds' }).isVisible();
  }, 'the similar item (fresh within 60 s)', 70000);
  await api.dispose();
  await p.done();
});
