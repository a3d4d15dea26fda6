import { useEffect, useState } from 'preact/hooks';
import { api, errorText, money, toMinor } from '../api.js';
import { Field, More, Notice, Title, go, usePages, useSession, When } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';

export function Offers({ role }) {
  const { user } = useSession();
  const { items, setItems, cursor, err, busy, load } = usePages(`/offers?role=${role}`, !!user, [role]);
  if (!user) return <NeedSignIn />;
  const replace = (o) => setItems((xs) => xs.map((x) => (x.id === o.id ? o : x)));
  return (
    <section>
      <Title>Offers</Title>
      <nav aria-label="Offer roles" class="tabs">
        <a href="#/offers?role=buyer" aria-current={role === 'buyer' ? 'page' : undefined}>Offers I made</a>
        <a href="#/offers?role=seller" aria-current={role === 'seller' ? 'page' : undefined}>Offers on my items</a>
      </nav>
      <Notice>{err}</Notice>
      {!busy && !err && items.length === 0 && <p>No offers yet.</p>}
      <ul class="list">{items.map((o) => <OfferItem key={o.id} o={o} role={role} onChange={replace} />)}</ul>
      {cursor && <More onMore={() => !busy && load(cursor)} busy={busy} />}
    </section>
  );
}

function OfferItem({ o, role, onChange }) {
  const [title, setTitle] = useState(null);
  const [amount, setAmount] = useState('');
  const [err, setErr] = useState(null);
  useEffect(() => { api.get(`/listings/${o.listing_id}`).then((d) => setTitle(d.listing.title)).catch(() => setTitle('(listing removed)')); }, [o.listing_id]);
  const myTurn = o.status === 'open' && o.turn === role;
  async function act(path, body) {
    setErr(null);
    try { onChange((await api.post(`/offers/${o.id}/${path}`, body)).offer); } catch (x) {
      setErr(x.code === 'listing_not_available' ? 'The item is no longer available.' : errorText(x));
    }
  }
  function counter(e) {
    e.preventDefault();
    const minor = toMinor(amount, o.currency);
    if (!minor) { setErr(`Enter an amount in ${o.currency}.`); return; }
    act('counter', { amount_minor: minor });
  }
  return (
    <li class="box" aria-label={`Offer on ${title || 'a listing'}`}>
      <h2><a href={`#/listing/${o.listing_id}`}>{title || 'Listing'}</a></h2>
      <p>{money(o.amount_minor, o.currency)} · <strong>{o.status}</strong>{o.status === 'open' && ` · waiting for the ${o.turn}`}
        {o.expires_at && o.status === 'open' && ` · expires ${When(o.expires_at)}`}
        {o.reserved_until && o.status === 'accepted' && ` · reserved until ${When(o.reserved_until)}`}</p>
      <details><summary>History</summary>
        <ol>{(o.history || []).map((h) => <li>{h.by} {h.action}{h.amount_minor ? ` ${money(h.amount_minor, o.currency)}` : ''} · {When(h.at)}</li>)}</ol>
      </details>
      {myTurn && (
        <div class="actions">
          <button type="button" onClick={() => act('accept')}>Accept</button>
          <button type="button" class="secondary" onClick={() => act('decline')}>Decline</button>
          <form class="inline" onSubmit={counter}>
            <Field label={`Counter-offer (${o.currency})`}>{(id) => <input id={id} inputMode="decimal" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />}</Field>
            <button type="submit">Send counter-offer</button>
          </form>
        </div>
      )}
      {role === 'buyer' && o.status === 'open' && <button type="button" class="secondary" onClick={() => act('withdraw')}>Withdraw</button>}
      {role === 'buyer' && o.status === 'accepted' && <button type="button" onClick={() => go(`#/buy/${o.listing_id}?offer=${o.id}`)}>Buy at {money(o.amount_minor, o.currency)}</button>}
      <Notice>{err}</Notice>
    </li>
  );
}
