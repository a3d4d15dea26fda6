// Sign up, sign out, sign in again, and a wrong password told plainly; keyboard only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { close, person, shots, signUp, PHONE } from '../lib.mjs';

after(close);

test('sign up, sign out and sign in with the keyboard', async () => {
  const p = await person({ viewport: PHONE });
  const u = await signUp(p.page, 'Kim Keyboard');
  await p.page.getByRole('button', { name: 'Sign out' }).click();
  await p.page.getByRole('link', { name: 'Sign in' }).waitFor();

  await p.page.goto('/#/signin');
  await p.page.getByLabel('Email').focus();
  await p.page.keyboard.type(u.email);
  await p.page.keyboard.press('Tab');
  await p.page.keyboard.type('not the password');
  p.expectFailure(/\/api\/v1\/sessions$/);   // the 401 of the wrong password
  await p.page.keyboard.press('Enter');
  await p.page.getByRole('alert').filter({ hasText: /invalid|wrong|incorrect/i }).waitFor();
  await p.page.getByLabel('Password').fill(u.password);
  await p.page.getByLabel('Password').press('Enter');
  await p.page.getByRole('button', { name: 'Sign out' }).waitFor();
  await p.page.getByRole('link', { name: 'Kim Keyboard' }).waitFor();
  await shots(p.page, 'signed-in-home');
  await p.done();
});

// The unread badge is read on every route change. A read still on its way when the person signs
// out reached the server after the session had ended and was answered 401 (a console error: the
// journey above failed so once in CI): signing out cancels it first. Here the read is held until
// the session is gone, then let go: it must end without an answer.
test('signing out cancels the badge read in flight', async () => {
  const p = await person();
  await signUp(p.page, 'Sam Signout');
  let release;
  const held = new Promise((r) => { release = r; });
  let caught;
  const seen = new Promise((r) => { caught = r; });
  let ended;
  const outcome = new Promise((r) => { ended = r; });
  await p.page.route(/\/api\/v1\/users\/me\/notifications\?unread=true$/, async (route) => {
    caught();
    await held;
    await route.continue().catch(() => { /* cancelled by the page: nothing to send */ });
    const res = await route.request().response().catch(() => null);
    ended(res ? `answered ${res.status()}` : 'cancelled');
  });
  // A route change (to a public page, whose own reads a sign-out does not refuse): a badge read.
  await p.page.getByRole('link', { name: 'Sam Signout' }).click();
  await seen;
  await p.page.getByRole('button', { name: 'Sign out' }).click();
  await p.page.getByRole('link', { name: 'Sign in' }).waitFor();
  release();
  assert.equal(await outcome, 'cancelled');
  await p.done();
});
