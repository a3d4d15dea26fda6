import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { Field, Money, More, Notice, Title, usePages, useSession, When } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';

export function Orders({ role }) {
  const { user } = useSession();
  const { items, setItems, cursor, err, busy, load } = usePages(`/orders?role=${role}`, !!user, [role]);
  if (!user) return <NeedSignIn />;
  const replace = (o) => setItems((xs) => xs.map((x) => (x.id === o.id ? o : x)));
  return (
    <section>
      <Title>Orders</Title>
      <nav aria-label="Order roles" class="tabs">
        <a href="#/orders?role=buyer" aria-current={role === 'buyer' ? 'page' : undefined}>Purchases</a>
        <a href="#/orders?role=seller" aria-current={role === 'seller' ? 'page' : undefined}>Sales</a>
      </nav>
      <Notice>{err}</Notice>
      {!busy && items.length === 0 && <p>No orders yet.</p>}
      <ul class="list">{items.map((o) => <OrderItem key={o.id} o={o} me={user.id} onChange={replace} />)}</ul>
      {cursor && <More onMore={() => !busy && load(cursor)} busy={busy} />}
    </section>
  );
}

function OrderItem({ o, me, onChange }) {
  const [title, setTitle] = useState(null);
  const [err, setErr] = useState(null);
  const [msg, setMsg] = useState(null);
  const [track, setTrack] = useState({ carrier: '', number: '' });
  const [review, setReview] = useState({ rating: '5', comment: '' });
  useEffect(() => { api.get(`/listings/${o.listing_id}`).then((d) => setTitle(d.listing.title)).catch(() => setTitle('(listing removed)')); }, [o.listing_id]);
  const seller = o.seller_id === me;
  async function act(path, body, done) {
    setErr(null);
    try {
      const d = await api.post(`/orders/${o.id}/${path}`, body);
      if (d && d.order) onChange(d.order);
      setMsg(done);
    } catch (x) {
      setErr(x.code === 'already_reviewed' ? 'You have reviewed this order already.' : x.code === 'invalid_transition' ? `Not possible now: the order is ${o.status}. Reload to see its latest state.` : errorText(x));
    }
  }
  return (
    <li class="order box" aria-label={`Order for ${title || 'a listing'}`}>
      <h2><a href={`#/listing/${o.listing_id}`}>{title || 'Listing'}</a></h2>
      <p><Money minor={o.amount_minor} currency={o.currency} /> · <strong class={`status s-${o.status}`}>{o.status}</strong> · {When(o.created_at)}</p>
      {o.tracking && <p>Tracking: {o.tracking.carrier} {o.tracking.number}</p>}
      {seller && o.status === 'paid' && (
        <form class="inline" onSubmit={(e) => { e.preventDefault(); act('ship', track, 'Marked as shipped.'); }}>
          <Field label="Carrier">{(id) => <input id={id} required value={track.carrier} onInput={(e) => setTrack({ ...track, carrier: e.currentTarget.value })} />}</Field>
          <Field label="Tracking number">{(id) => <input id={id} required value={track.number} onInput={(e) => setTrack({ ...track, number: e.currentTarget.value })} />}</Field>
          <button type="submit">Mark as shipped</button>
        </form>
      )}
      {!seller && o.status === 'shipped' && <button type="button" onClick={() => act('confirm', {}, 'Delivery confirmed; the seller is paid.')}>Confirm delivery</button>}
      {o.status === 'paid' && <button type="button" class="secondary" onClick={() => confirm('Cancel this order? The payment is refunded.') && act('cancel', {}, 'Order cancelled and refunded.')}>Cancel order</button>}
      {!seller && o.status === 'delivered' && (
        <form class="review" onSubmit={(e) => { e.preventDefault(); act('review', { rating: Number(review.rating), comment: review.comment }, 'Thank you for your review.'); }}>
          <fieldset>
            <legend>Rate the seller</legend>
            {[1, 2, 3, 4, 5].map((n) => (
              <label class="check"><input type="radio" name={`rating-${o.id}`} value={n} checked={review.rating === String(n)}
                onChange={() => setReview({ ...review, rating: String(n) })} /> {n} star{n > 1 ? 's' : ''}</label>
            ))}
          </fieldset>
          <Field label="Comment (optional)">{(id) => <textarea id={id} maxLength={2000} rows={3} value={review.comment} onInput={(e) => setReview({ ...review, comment: e.currentTarget.value })} />}</Field>
          <button type="submit">Submit review</button>
        </form>
      )}
      <Notice kind="info">{msg}</Notice>
      <Notice>{err}</Notice>
    </li>
  );
}
