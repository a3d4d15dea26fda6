// Accessible by default, checked on the pages a person meets first, at 390 px and 1280 px:
// every control has a label, every image an alt, nothing overflows a phone's width, focus is
// visible when tabbing, and the skip link moves focus to the content.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, apiListing, apiUser, close, person, signUp, until, DESKTOP, PHONE } from '../lib.mjs';

after(close);

async function audit(page, where) {
  const problems = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden') continue;
      if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) out.push(`unlabelled ${el.tagName} ${el.name || el.id}`);
    }
    for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) out.push(`img without alt: ${img.src}`);
    for (const b of document.querySelectorAll('button, a[href]')) if (!b.textContent.trim() && !b.getAttribute('aria-label')) out.push(`${b.tagName} without a name`);
    if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`overflows: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    return out;
  });
  assert.deepEqual(problems, [], `${where}: ${problems.join('; ')}`);
}

test('labels, alt text, no overflow at 390 px, visible focus, skip link', async () => {
  const api = await apiClient();
  const seller = await apiUser(api, 'Ally Seller');
  const l = await apiListing(api, seller, { title: 'Accessible armchair with a rather long title to wrap' });
  await until(async () => (await api.get(`/api/v1/listings/${l.id}`, { headers: { 'X-Min-Seq': l.seq } })).status() === 200, 'the listing');
  const p = await person({ viewport: PHONE });
  await signUp(p.page, 'Ada Access');
  const pages = ['/#/', '/#/sell', `/#/listing/${l.id}`, `/#/buy/${l.id}`, '/#/orders', '/#/favorites', `/#/users/${seller.id}`, `/l/${l.id}`];
  for (const v of [PHONE, DESKTOP]) {
    await p.page.setViewportSize(v);
    for (const url of pages) {
      await p.page.goto(url);
      await p.page.getByRole('heading', { level: 1 }).first().waitFor();
      if (url === '/#/sell') await p.page.getByLabel('Category').selectOption('cameras');   // the attribute form too
      await audit(p.page, `${url} at ${v.width}px`);
    }
  }
  // keyboard: the skip link comes first and moves focus to the content; focus is outlined
  await p.page.goto('/#/');
  await p.page.keyboard.press('Tab');
  const skip = p.page.getByRole('link', { name: 'Skip to content' });
  assert.ok(await skip.evaluate((e) => e === document.activeElement));
  await p.page.keyboard.press('Tab');
  const outline = await p.page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await p.page.keyboard.press('Shift+Tab');
  await p.page.keyboard.press('Enter');
  assert.equal(await p.page.evaluate(() => document.activeElement.id), 'main');
  await api.dispose();
  await p.done();
});
