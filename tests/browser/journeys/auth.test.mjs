// Sign up, sign out, sign in again, and a wrong password told plainly; keyboard only.
import { test, after } from 'node:test';
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
