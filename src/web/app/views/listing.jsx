import { useEffect, useState } from 'preact/hooks';
import { api, call, conditionName, errorText, money, toMinor } from '../api.js';
import { Field, ListingCard, Money, Notice, Rating, Title, go, useLoad, useSession } from '../ui.jsx';

export function ListingView({ id }) {
  const { user } = useSession();
  const { data: l, error, reload } = useLoad(() => api.get(`/listings/${id}`).then((d) => d.listing), [id]);
  if (error) return <Notice>{error.status === 404 ? 'This listing does not exist or was removed.' : errorText(error)}</Notice>;
  if (!l) return <p aria-busy="true">Loading…</p>;
  const mine = user && user.id === l.seller_id;
  return (
    <article class="listing">
      <Title>{l.title}</Title>
      {l.status !== 'active' && <p class="notice info" role="status">This listing is {l.status === 'reserved' ? 'reserved for a buyer' : l.status}.</p>}
      <p class="price"><Money minor={l.price_minor} currency={l.currency} /></p>
      <Photos l={l} />
      <div class="cols">
        <div>
          <h2>Description</h2>
          <p class="desc">{l.description || 'No description.'}</p>
          <dl class="facts">
            <dt>Condition</dt><dd>{conditionName(l.condition)}</dd>
            <dt>Category</dt><dd>{l.category}</dd>
            {l.location && <><dt>Location</dt><dd>{l.location.city}, {l.location.country}</dd></>}
            {Object.entries(l.attributes || {}).map(([k, v]) => <><dt>{k.replace(/_/g, ' ')}</dt><dd>{String(v)}</dd></>)}
            <dt>Favourites</dt><dd>{l.favorites || 0}</dd>
          </dl>
        </div>
        <aside class="box" aria-label="Seller and actions">
          <h2>Seller</h2>
          <p><a href={`#/users/${l.seller.id}`}>{l.seller.display_name}</a><br /><Rating rating={l.seller.rating} /></p>
          <p>Share: <a href={`/l/${l.id}`}>{`${location.origin}/l/${l.id}`}</a></p>
          {mine ? <SellerActions l={l} /> : <BuyerActions l={l} user={user} onChange={reload} />}
        </aside>
      </div>
      <Similar id={id} />
    </article>
  );
}

function Photos({ l }) {
  const imgs = l.images || [];
  const [i, setI] = useState(0);
  if (!imgs.length) return <p class="muted">No photos.</p>;
  const img = imgs[Math.min(i, imgs.length - 1)];
  return (
    <div class="photos">
      <img src={img.url} alt={`Photo ${i + 1} of ${imgs.length}: ${l.title}`} width={img.width || undefined} height={img.height || undefined} />
      {imgs.length > 1 && (
        <ul class="thumbs" aria-label="Photos">
          {imgs.map((m, k) => (
            <li><button type="button" aria-label={`Show photo ${k + 1}`} aria-pressed={k === i} onClick={() => setI(k)}>
              <img src={m.thumb_url || m.url} alt="" width="64" height="48" /></button></li>
          ))}
        </ul>
      )}
    </div>
  );
}

function SellerActions({ l }) {
  const [err, setErr] = useState(null);
  async function remove() {
    if (!confirm('Delete this listing?')) return;
    try { await api.del(`/listings/${l.id}`); go('#/'); } catch (x) { setErr(errorText(x)); }
  }
  return (
    <div class="actions">
      <a class="button" href={`#/listing/${l.id}/edit`}>Edit listing</a>
      {l.status !== 'sold' && l.status !== 'reserved' && <button type="button" class="secondary" onClick={remove}>Delete</button>}
      <Notice>{err}</Notice>
    </div>
  );
}

function BuyerActions({ l, user, onChange }) {
  const [fav, setFav] = useState(null);
  const [msg, setMsg] = useState(null);
  const [err, setErr] = useState(null);
  const [amount, setAmount] = useState('');
  useEffect(() => {
    if (!user) return;
    api.get('/users/me/favorites?limit=100').then((d) => setFav(d.items.some((x) => x.id === l.id))).catch(() => setFav(false));
  }, [user && user.id, l.id]);
  if (!user) return <p><a href="#/signin">Sign in</a> to buy, make an offer or save it.</p>;

  async function toggleFav() {
    setErr(null);
    try {
      if (fav) await api.del(`/listings/${l.id}/favorite`); else await api.post(`/listings/${l.id}/favorite`);
      setFav(!fav);
      setMsg(fav ? 'Removed from your favourites.' : 'Saved to your favourites.');
    } catch (x) { setErr(errorText(x)); }
  }
  async function offer(e) {
    e.preventDefault();
    setErr(null);
    const minor = toMinor(amount, l.currency);
    if (!minor) { setErr(`Enter an amount in ${l.currency}, like 12.50.`); return; }
    try {
      await api.post(`/listings/${l.id}/offers`, { amount_minor: minor });
      setMsg(`Offer of ${money(minor, l.currency)} sent. The seller will answer on your Offers page.`);
      setAmount('');
    } catch (x) {
      setErr(x.fields && x.fields.amount_minor ? `The offer must be below the price (${money(l.price_minor, l.currency)}).` : errorText(x));
    }
  }
  return (
    <div class="actions">
      {fav !== null && <button type="button" class="secondary" aria-pressed={fav} onClick={toggleFav}>{fav ? '♥ Remove from favourites' : '♡ Add to favourites'}</button>}
      {l.status === 'active' && <a class="button" href={`#/buy/${l.id}`}>Buy now</a>}
      {l.status === 'active' && (
        <form onSubmit={offer} class="inline">
          <Field label={`Your offer (${l.currency})`}>{(id) => <input id={id} inputMode="decimal" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />}</Field>
          <button type="submit">Make an offer</button>
        </form>
      )}
      <Notice kind="info">{msg}</Notice>
      <Notice>{err}</Notice>
    </div>
  );
}

function Similar({ id }) {
  const [items, setItems] = useState(null);
  useEffect(() => {
    api.get(`/listings/${id}/similar?limit=6`).then((d) => setItems(d.items)).catch(() => setItems(null));
  }, [id]);
  if (!items || !items.length) return null;
  return (
    <section aria-labelledby="similar-h">
      <h2 id="similar-h">Similar items</h2>
      <ul class="grid">{items.map((x) => <ListingCard key={x.id} l={x} />)}</ul>
    </section>
  );
}

// The listing with its ETag (for If-Match).
export async function listingWithTag(id) {
  const r = await call('GET', `/listings/${id}`);
  return { listing: r.data.listing, etag: r.headers.get('ETag') };
}
