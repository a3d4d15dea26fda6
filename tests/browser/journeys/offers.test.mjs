// Offers (issue 11): a buyer offers below the price on the listing page, the seller accepts on
// the Offers page (the listing is reserved for the buyer), the buyer buys with the offer at the
// accepted amount; and the same with a counter-offer that the buyer accepts.
import { test, after } from 'node:test';
import { apiClient, apiListing, apiUser, close, person, shots, signUp } from '../lib.mjs';

after(close);

// The seller, signed in through the form, on the Offers page of their items.
async function sellerOffers(seller) {
  const s = await person();
  await s.page.goto('/#/signin');
  await s.page.getByLabel('Email').fill(seller.email);
  await s.page.getByLabel('Password').fill(seller.password);
  await s.page.getByRole('button', { name: 'Sign in' }).click();
  await s.page.getByRole('button', { name: 'Sign out' }).waitFor();
  await s.page.goto('/#/offers?role=seller');
  return s;
}

// The buyer makes an offer of `amount` EUR on the listing's page.
async function makeOffer(b, listingId, amount) {
  await b.page.goto(`/#/listing/${listingId}`);
  await b.page.getByLabel('Your offer (EUR)').fill(amount);
  await b.page.getByRole('button', { name: 'Make an offer' }).click();
  await b.page.getByText(`Offer of €${amount}.00 sent.`).waitFor();
}

// From the buyer's accepted offer: buy at `price`, and see the order at that price.
async function buyWithOffer(b, title, price) {
  const mine = b.page.getByRole('listitem', { name: `Offer on ${title}` });
  await mine.getByRole('button', { name: `Buy at ${price}` }).click();
  await b.page.getByText(`Total: ${price}`).waitFor();
  await b.page.getByText('(your accepted offer)').waitFor();
  await b.page.getByLabel('Full name').fill('Olga Offer');
  await b.page.getByLabel('Address', { exact: true }).fill('Ring 2');
  await b.page.getByLabel('City').fill('Vienna');
  await b.page.getByLabel('Postal code').fill('1010');
  await b.page.getByLabel('Country code (two letters)').fill('AT');
  await b.page.getByRole('button', { name: 'Pay and place order' }).click();
  await b.page.waitForURL(/#\/orders/);
  await b.page.getByRole('listitem', { name: `Order for ${title}` }).getByText(price).waitFor();
}

test('offer, the seller accepts, the buyer buys with the offer', async () => {
  const api = await apiClient();
  const seller = await apiUser(api, 'Offer Seller');
  const l = await apiListing(api, seller, { title: 'Tape deck', price_minor: 10000 });
  const b = await person();
  await signUp(b.page, 'Olga Offer');
  await makeOffer(b, l.id, '70');

  const s = await sellerOffers(seller);
  const offer = s.page.getByRole('listitem', { name: 'Offer on Tape deck' });
  await offer.getByText('waiting for the seller').waitFor();
  await offer.getByRole('button', { name: 'Accept' }).click();
  await offer.getByText('accepted').waitFor();
  await offer.getByText('reserved until').waitFor();

  await b.page.goto('/#/offers?role=buyer');
  await b.page.getByRole('listitem', { name: 'Offer on Tape deck' }).getByText('accepted').waitFor();
  await buyWithOffer(b, 'Tape deck', '€70.00');
  // the offer is completed
  await b.page.goto('/#/offers?role=buyer');
  await b.page.getByRole('listitem', { name: 'Offer on Tape deck' }).getByText('completed').waitFor();
  await api.dispose();
  await s.done();
  await b.done();
});

test('offer, counter-offer, accept, buy at the accepted amount', async () => {
  const api = await apiClient();
  const seller = await apiUser(api, 'Offer Seller');
  const l = await apiListing(api, seller, { title: 'Record player', price_minor: 10000 });
  const b = await person();
  await signUp(b.page, 'Olga Offer');
  await makeOffer(b, l.id, '70');

  const s = await sellerOffers(seller);
  const offer = s.page.getByRole('listitem', { name: 'Offer on Record player' });
  await offer.getByLabel('Counter-offer (EUR)').fill('85');
  await offer.getByRole('button', { name: 'Send counter-offer' }).click();
  await offer.getByText('waiting for the buyer').waitFor();
  await shots(s.page, 'offers-seller');

  await b.page.goto('/#/offers?role=buyer');
  const mine = b.page.getByRole('listitem', { name: 'Offer on Record player' });
  await mine.getByRole('button', { name: 'Accept' }).click();
  await mine.getByText('accepted').waitFor();
  await buyWithOffer(b, 'Record player', '€85.00');
  await api.dispose();
  await s.done();
  await b.done();
});
