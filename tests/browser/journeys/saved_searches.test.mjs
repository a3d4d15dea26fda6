// Saved searches (issue 12): save the current search from the filters, see it listed, run
// it, delete it. Skips until the saved-searches API is on main.
import { test, after } from 'node:test';
import { apiClient, apiUser, close, person, signUp } from '../lib.mjs';

after(close);

test('save a search, find it in Saved searches, delete it', async (t) => {
  const api = await apiClient();
  const u = await apiUser(api, 'Probe');
  const p = await person();
  await signUp(p.page, 'Sam Saver');
  await p.page.goto('/#/?q=lamp&category=furniture&max_price=5000');
  await p.page.getByRole('button', { name: 'Save this search' }).click();
  await p.page.getByText('Search saved.').waitFor();
  await p.page.goto('/#/saved');
  await p.page.getByRole('link', { name: 'lamp' }).waitFor();
  await p.page.getByRole('button', { name: 'Delete “lamp”' }).click();
  await p.page.getByText('No saved searches yet.').waitFor();
  await api.dispose();
  await p.done();
});
