import { useState } from 'preact/hooks';
import { api, call, errorText } from '../api.js';
import { Field, Money, Notice, Title, go, useLoad, useSession } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';

// The Idempotency-Key of a purchase lives in sessionStorage from the first attempt until a
// definitive answer, so a retry (a lost answer, a 503, a reload of the page) sends the same
// key and the same bytes: the server then answers the first outcome instead of a second order.
const keyName = (listingId, offerId) => `marketd.buy.${offerId || listingId}`;

function purchaseKey(name) {
  let k = sessionStorage.getItem(name);
  if (!k) {
    k = crypto.randomUUID();
    sessionStorage.setItem(name, k);
  }
  return k;
}

const FIELDS = [
  ['name', 'Full name', 'name'], ['line1', 'Address', 'address-line1'], ['line2', 'Address line 2 (optional)', 'address-line2'],
  ['city', 'City', 'address-level2'], ['postal_code', 'Postal code', 'postal-code'], ['country', 'Country code (two letters)', 'country'],
];

export function Buy({ listingId, offerId }) {
  const { user } = useSession();
  const { data: l, error } = useLoad(() => api.get(`/listings/${listingId}`).then((d) => d.listing), [listingId]);
  const { data: offer } = useLoad(() => (offerId ? api.get(`/offers/${offerId}`).then((d) => d.offer) : Promise.resolve(null)), [offerId]);
  const name = keyName(listingId, offerId);
  const [addr, setAddr] = useState(() => {
    try { return JSON.parse(sessionStorage.getItem(`${name}.address`)) || {}; } catch { return {}; }
  });
  const [err, setErr] = useState(null);
  const [fields, setFields] = useState({});
  const [busy, setBusy] = useState(false);
  const [retry, setRetry] = useState(!!sessionStorage.getItem(name));
  if (!user) return <NeedSignIn />;
  if (error) return <Notice>{errorText(error)}</Notice>;
  if (!l) return <p aria-busy="true">Loading…</p>;

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setFields({});
    const shipping_address = { name: addr.name || '', line1: addr.line1 || '', city: addr.city || '', postal_code: addr.postal_code || '', country: (addr.country || '').toUpperCase() };
    if (addr.line2) shipping_address.line2 = addr.line2;
    const body = offerId ? { offer_id: offerId, shipping_address } : { listing_id: listingId, shipping_address };
    sessionStorage.setItem(`${name}.address`, JSON.stringify(addr));
    const key = purchaseKey(name);
    try {
      const r = await call('POST', '/orders', { body, headers: { 'Idempotency-Key': key } });
      sessionStorage.removeItem(name);
      sessionStorage.removeItem(`${name}.address`);
      go(`#/orders?role=buyer&placed=${r.data.order.id}`);
    } catch (x) {
      if (x.status === 0 || x.status >= 500 || x.status === 429) {
        setRetry(true);   // keep the key: the order may exist; the retry answers it
        setErr(`${errorText(x)} Your purchase was not confirmed. Press “Try again”: you will not be charged twice.`);
      } else {
        // A definitive refusal: a new attempt is a new purchase.
        sessionStorage.removeItem(name);
        setRetry(false);
        setFields(x.fields || {});
        setErr(x.code === 'listing_not_available' ? 'Sorry, this item was just sold or reserved by someone else.'
          : x.code === 'idempotency_key_reused' ? 'The address changed since the last attempt. Check it and confirm again.'
            : errorText(x));
      }
    } finally {
      setBusy(false);
    }
  }

  const amount = offer && offer.status === 'accepted' ? offer.amount_minor : l.price_minor;
  return (
    <section class="narrow">
      <Title>Buy “{l.title}”</Title>
      <p class="price">Total: <Money minor={amount} currency={l.currency} /> {offer && '(your accepted offer)'}</p>
      <form onSubmit={submit}>
        <fieldset>
          <legend>Shipping address</legend>
          {FIELDS.map(([k, label, ac]) => (
            <Field label={label} error={fields[`shipping_address.${k}`]}>{(id, d) => (
              <input id={id} aria-describedby={d} autocomplete={ac} required={k !== 'line2'} maxLength={k === 'country' ? 2 : 200}
                value={addr[k] || ''} onInput={(e) => setAddr({ ...addr, [k]: e.currentTarget.value })} />
            )}</Field>
          ))}
        </fieldset>
        <Notice>{err}</Notice>
        <button type="submit" disabled={busy}>{busy ? 'Paying…' : retry ? 'Try again' : 'Pay and place order'}</button>
      </form>
    </section>
  );
}
