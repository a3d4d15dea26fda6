// Editing sends If-Match with the version read; when the listing changed in between (another
// tab), the 412 is explained, nothing is overwritten, and loading the latest version lets the
// seller save.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, close, person, shots, signUp } from '../lib.mjs';

after(close);

test('an edit after a change elsewhere is refused with a clear message, then saved on the latest version', async () => {
  const p = await person();
  await signUp(p.page, 'Erin Editor');
  // create through the form
  await p.page.goto('/#/sell');
  await p.page.getByLabel('Title').fill('Oak bookshelf');
  await p.page.getByLabel('Category').selectOption('furniture');
  await p.page.getByLabel('Price').fill('80');
  await p.page.getByLabel('City').fill('Munich');
  await p.page.getByLabel('Country code').fill('DE');
  await p.page.getByLabel('Latitude').fill('48.1351');
  await p.page.getByLabel('Longitude').fill('11.582');
  await p.page.getByRole('button', { name: 'Publish' }).click();
  await p.page.waitForURL(/#\/listing\/[0-9a-f-]{36}$/);
  const id = p.page.url().match(/listing\/([0-9a-f-]{36})/)[1];

  await p.page.getByRole('link', { name: 'Edit listing' }).click();
  await p.page.getByLabel('Title').fill('Oak bookshelf, tall');

  // another tab of the same seller changes the price meanwhile
  const other = await p.ctx.newPage();
  await other.goto(`/#/listing/${id}/edit`);
  await other.getByLabel('Price').fill('75');
  await other.getByRole('button', { name: 'Save changes' }).click();
  await other.waitForURL(new RegExp(`#/listing/${id}$`));
  await other.close();

  p.expectFailure(new RegExp(`/api/v1/listings/${id}$`));   // the 412
  await p.page.getByRole('button', { name: 'Save changes' }).click();
  await p.page.getByRole('alert').filter({ hasText: 'Someone changed this listing after you opened it' }).waitFor();
  await shots(p.page, 'edit-conflict');
  const loadLatest = p.page.getByRole('button', { name: 'Load the latest version' });
  await loadLatest.click();
  // The form is refilled when the read model shows the change that beat us (it may need a
  // few reads); the button goes away then. Reading the field before that raced the load.
  await loadLatest.waitFor({ state: 'detached' });
  assert.equal(await p.page.getByLabel('Price').inputValue(), '75.00');
  await p.page.getByLabel('Title').fill('Oak bookshelf, tall');
  await p.page.getByRole('button', { name: 'Save changes' }).click();
  await p.page.waitForURL(new RegExp(`#/listing/${id}$`));
  await p.page.getByRole('heading', { level: 1, name: 'Oak bookshelf, tall' }).waitFor();
  await p.page.getByText('€75.00').first().waitFor();

  const api = await apiClient();
  const r = await api.get(`/api/v1/listings/${id}`, { headers: { 'X-Min-Seq': '1' } });
  const l = (await r.json()).listing;
  assert.equal(l.title, 'Oak bookshelf, tall');
  assert.equal(l.price_minor, 7500);
  assert.equal(l.version, 3);
  await api.dispose();
  await p.done();
});
