import { useEffect, useState } from 'preact/hooks';
import { api, attributesOf, call, categories, CITIES, CONDITIONS, errorText, fromMinor, toMinor, upload } from '../api.js';
import { Field, Notice, Title, go, useSession } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';
import { listingWithTag } from './listing.jsx';

const TYPES = ['image/jpeg', 'image/png', 'image/webp'];

// One attribute of a category's schema as a labelled control. value is a string (or a
// boolean for booleans); onChange gets the typed value, '' for "not given".
export function AttributeInput({ a, value, onChange, error, optional }) {
  const label = `${a.name.replace(/_/g, ' ')}${a.required && !optional ? ' (required)' : ''}`;
  const required = a.required && !optional;
  if (a.type === 'enum') {
    return (
      <Field label={label} error={error}>{(id, d) => (
        <select id={id} aria-describedby={d} required={required} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">{required ? 'Choose…' : optional ? 'Any' : 'Not given'}</option>
          {(a.values || []).map((x) => <option>{x}</option>)}
        </select>
      )}</Field>
    );
  }
  if (a.type === 'boolean') {
    return (
      <Field label={label} error={error}>{(id, d) => (
        <select id={id} aria-describedby={d} required={required} value={value === true ? 'true' : value === false ? 'false' : value}
          onChange={(e) => onChange(e.currentTarget.value === '' ? '' : optional ? e.currentTarget.value : e.currentTarget.value === 'true')}>
          <option value="">{required ? 'Choose…' : optional ? 'Any' : 'Not given'}</option><option value="true">Yes</option><option value="false">No</option>
        </select>
      )}</Field>
    );
  }
  const numeric = a.type === 'integer' || a.type === 'number';
  return (
    <Field label={label} error={error}>{(id, d) => (
      <input id={id} aria-describedby={d} required={required} inputMode={numeric ? 'decimal' : undefined}
        value={value} onInput={(e) => onChange(e.currentTarget.value)} />
    )}</Field>
  );
}

// Typed attribute values for the API; problems per attribute name.
function typedAttributes(schema, values) {
  const out = {};
  const problems = {};
  for (const a of schema) {
    const v = values[a.name];
    if (v === '' || v == null) {
      if (a.required) problems[a.name] = 'is required';
      continue;
    }
    if (a.type === 'integer') {
      if (!/^-?\d+$/.test(String(v).trim())) problems[a.name] = 'must be a whole number'; else out[a.name] = Number(v);
    } else if (a.type === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(String(v).trim())) problems[a.name] = 'must be a number'; else out[a.name] = Number(v);
    } else {
      out[a.name] = v;
    }
  }
  return { out, problems };
}

const EMPTY = { title: '', description: '', category: '', condition: 'good', price: '', currency: 'EUR', city: '', country: '', lat: '', lon: '', attrs: {} };

export function Sell({ id }) {
  const { user } = useSession();
  const [cats, setCats] = useState([]);
  const [v, setV] = useState(EMPTY);
  const [etag, setEtag] = useState(null);
  const [listing, setListing] = useState(null);
  const [err, setErr] = useState(null);
  const [conflict, setConflict] = useState(false);
  const [fields, setFields] = useState({});
  const [files, setFiles] = useState([]);
  const [progress, setProgress] = useState({});
  const [busy, setBusy] = useState(false);

  useEffect(() => { categories().then(setCats).catch((x) => setErr(errorText(x))); }, []);
  // After a 412 the refused tag is passed: the change that beat us is committed, but the read
  // model may show it a moment later, so read again (bounded) until the tag differs.
  async function loadLatest(refused) {
    let { listing: l, etag: t } = await listingWithTag(id);
    for (let i = 0; refused && t === refused && i < 20; i++) {
      await new Promise((res) => setTimeout(res, 250));
      ({ listing: l, etag: t } = await listingWithTag(id));
    }
    setListing(l);
    setEtag(t);
    setV({
      title: l.title, description: l.description || '', category: l.category, condition: l.condition,
      price: fromMinor(l.price_minor, l.currency), currency: l.currency,
      city: l.location.city, country: l.location.country, lat: String(l.location.lat), lon: String(l.location.lon),
      attrs: Object.fromEntries(Object.entries(l.attributes || {}).map(([k, x]) => [k, typeof x === 'boolean' ? x : String(x)])),
    });
    setConflict(false);
  }
  useEffect(() => { if (id && user) loadLatest().catch((x) => setErr(errorText(x))); }, [id]);
  if (!user) return <NeedSignIn />;

  const set = (k) => (e) => setV({ ...v, [k]: e.currentTarget.value });
  const schema = v.category ? attributesOf(cats, v.category) : [];

  function useCity(e) {
    const c = CITIES.find((x) => x[0] === e.currentTarget.value);
    if (c) setV({ ...v, city: c[0], country: c[1], lat: String(c[2]), lon: String(c[3]) });
  }
  function myPosition() {
    navigator.geolocation && navigator.geolocation.getCurrentPosition(
      (p) => setV((o) => ({ ...o, lat: p.coords.latitude.toFixed(5), lon: p.coords.longitude.toFixed(5) })),
      () => setErr('Your position is not available: choose a city.'),
    );
  }

  function body() {
    const price = toMinor(v.price, v.currency);
    const { out, problems } = typedAttributes(schema, v.attrs);
    const f = {};
    if (!price) f.price_minor = `must be an amount in ${v.currency}, like 12.50`;
    if (v.lat === '' || v.lon === '' || Number.isNaN(Number(v.lat)) || Number.isNaN(Number(v.lon))) f.location = 'choose a city or use your position';
    for (const [k, p] of Object.entries(problems)) f[`attributes.${k}`] = p;
    return {
      problems: f,
      body: {
        title: v.title, description: v.description, category: v.category, condition: v.condition,
        price_minor: price, currency: v.currency, attributes: out,
        location: { city: v.city, country: v.country.toUpperCase(), lat: Number(v.lat), lon: Number(v.lon) },
      },
    };
  }

  async function addPhotos(listingId) {
    for (const [n, f] of files.entries()) {
      const key = `${n}:${f.name}`;
      setProgress((p) => ({ ...p, [key]: 0 }));
      const t = await api.post(`/listings/${listingId}/images/uploads`, { content_type: f.type, size_bytes: f.size });
      await upload(t, f, (x) => setProgress((p) => ({ ...p, [key]: x })));
      await api.post(`/listings/${listingId}/images`, { key: t.key });
      setProgress((p) => ({ ...p, [key]: 1 }));
    }
  }

  async function submit(e) {
    e.preventDefault();
    setErr(null);
    setConflict(false);
    const b = body();
    setFields(b.problems);
    if (Object.keys(b.problems).length) { setErr('Please correct the fields marked below.'); return; }
    setBusy(true);
    try {
      let listingId = id;
      if (id) {
        const r = await call('PATCH', `/listings/${id}`, { body: b.body, headers: { 'If-Match': etag } });
        setEtag(r.headers.get('ETag'));
      } else {
        const d = await api.post('/listings', { ...b.body, status: 'active' });
        listingId = d.listing.id;
      }
      await addPhotos(listingId);
      go(`#/listing/${listingId}`);
    } catch (x) {
      setFields(x.fields || {});
      if (x.status === 412) {
        setConflict(true);
        setErr('Someone changed this listing after you opened it (in another tab or device), so your changes were not saved. Load the latest version, then make your changes again.');
      } else if (x.code === 'invalid_transition') {
        setErr('This listing is sold or reserved, so it cannot be edited now.');
      } else {
        setErr(errorText(x));
      }
    } finally {
      setBusy(false);
    }
  }

  async function removeImage(imageId) {
    try { await api.del(`/listings/${id}/images/${imageId}`); await loadLatest(); } catch (x) { setErr(errorText(x)); }
  }

  return (
    <section class="narrow">
      <Title>{id ? 'Edit listing' : 'Sell an item'}</Title>
      <form onSubmit={submit} novalidate={false}>
        <Field label="Title" error={fields.title}>{(i, d) => <input id={i} aria-describedby={d} required minLength={3} maxLength={120} value={v.title} onInput={set('title')} />}</Field>
        <Field label="Description" error={fields.description}>{(i, d) => <textarea id={i} aria-describedby={d} rows={5} maxLength={5000} value={v.description} onInput={set('description')} />}</Field>
        <Field label="Category" error={fields.category}>{(i, d) => (
          <select id={i} aria-describedby={d} required value={v.category} onChange={(e) => setV({ ...v, category: e.currentTarget.value })}>
            <option value="">Choose…</option>
            {cats.map((c) => <option value={c.slug}>{c.parent ? `— ${c.name}` : c.name}</option>)}
          </select>
        )}</Field>
        {schema.length > 0 && (
          <fieldset>
            <legend>Details for this category</legend>
            {schema.map((a) => (
              <AttributeInput a={a} value={v.attrs[a.name] ?? ''} error={fields[`attributes.${a.name}`]}
                onChange={(x) => setV((o) => ({ ...o, attrs: { ...o.attrs, [a.name]: x } }))} />
            ))}
          </fieldset>
        )}
        <Field label="Condition" error={fields.condition}>{(i, d) => (
          <select id={i} aria-describedby={d} value={v.condition} onChange={set('condition')}>
            {CONDITIONS.map(([k, n]) => <option value={k}>{n}</option>)}
          </select>
        )}</Field>
        <div class="row">
          <Field label="Price" error={fields.price_minor}>{(i, d) => <input id={i} aria-describedby={d} required inputMode="decimal" value={v.price} onInput={set('price')} />}</Field>
          <Field label="Currency" error={fields.currency}>{(i, d) => (
            <select id={i} aria-describedby={d} value={v.currency} onChange={set('currency')}>
              {['EUR', 'GBP', 'CHF', 'PLN', 'SEK', 'DKK', 'NOK', 'CZK', 'HUF', 'USD'].map((c) => <option>{c}</option>)}
            </select>
          )}</Field>
        </div>
        <fieldset>
          <legend>Where is it?</legend>
          <Field label="City" error={fields['location.city'] || fields.location}>{(i, d) => (
            <input id={i} aria-describedby={d} required list="cities" value={v.city} onInput={set('city')} onChange={useCity} />
          )}</Field>
          <datalist id="cities">{CITIES.map((c) => <option value={c[0]} />)}</datalist>
          <Field label="Country code" hint="Two letters, like DE" error={fields['location.country']}>{(i, d) => <input id={i} aria-describedby={d} required maxLength={2} value={v.country} onInput={set('country')} />}</Field>
          <div class="row">
            <Field label="Latitude" error={fields['location.lat']}>{(i, d) => <input id={i} aria-describedby={d} inputMode="decimal" value={v.lat} onInput={set('lat')} />}</Field>
            <Field label="Longitude" error={fields['location.lon']}>{(i, d) => <input id={i} aria-describedby={d} inputMode="decimal" value={v.lon} onInput={set('lon')} />}</Field>
          </div>
          <button type="button" class="secondary" onClick={myPosition}>Use my position</button>
        </fieldset>
        {listing && listing.images && listing.images.length > 0 && (
          <fieldset>
            <legend>Photos</legend>
            <ul class="thumbs">
              {listing.images.map((m, k) => (
                <li><img src={m.thumb_url || m.url} alt={`Photo ${k + 1}`} width="64" height="48" />
                  <button type="button" class="linklike" onClick={() => removeImage(m.id)}>Remove photo {k + 1}</button></li>
              ))}
            </ul>
          </fieldset>
        )}
        <Field label="Add photos" hint="JPEG, PNG or WebP, up to 10 MB each">{(i, d) => (
          <input id={i} aria-describedby={d} type="file" multiple accept={TYPES.join(',')}
            onChange={(e) => {
              const fs = [...e.currentTarget.files];
              const bad = fs.find((f) => !TYPES.includes(f.type) || f.size > 10 * 1024 * 1024);
              setErr(bad ? `${bad.name}: only JPEG, PNG or WebP up to 10 MB.` : null);
              setFiles(bad ? [] : fs);
            }} />
        )}</Field>
        {Object.entries(progress).map(([k, x]) => (
          <div class="progress">
            <label>{k.replace(/^\d+:/, '')} <progress max="1" value={x} aria-label={`Uploading ${k.replace(/^\d+:/, '')}`}>{Math.round(x * 100)}%</progress> {Math.round(x * 100)}%</label>
          </div>
        ))}
        <Notice>{err}</Notice>
        {conflict && <button type="button" onClick={() => loadLatest(etag).catch((x) => setErr(errorText(x)))}>Load the latest version</button>}
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : id ? 'Save changes' : 'Publish'}</button>
      </form>
    </section>
  );
}
