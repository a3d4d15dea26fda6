import { useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { Field, Notice, Title, go, useSession } from '../ui.jsx';

function useForm(initial) {
  const [v, setV] = useState(initial);
  return [v, (k) => (e) => setV({ ...v, [k]: e.currentTarget.value })];
}

export function SignIn() {
  const { setUser } = useSession();
  const [v, on] = useForm({ email: '', password: '' });
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const d = await api.post('/sessions', v);
      setUser(d.user);
      go('#/');
    } catch (x) {
      setErr(x.status === 429 ? 'Too many attempts. Wait a few minutes and try again.' : errorText(x));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="narrow">
      <Title>Sign in</Title>
      <form onSubmit={submit}>
        <Field label="Email">{(id) => <input id={id} type="email" autocomplete="email" required value={v.email} onInput={on('email')} />}</Field>
        <Field label="Password">{(id) => <input id={id} type="password" autocomplete="current-password" required value={v.password} onInput={on('password')} />}</Field>
        <Notice>{err}</Notice>
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      <p>New here? <a href="#/signup">Create an account</a></p>
    </section>
  );
}

export function SignUp() {
  const { setUser } = useSession();
  const [v, on] = useForm({ display_name: '', email: '', password: '' });
  const [err, setErr] = useState(null);
  const [fields, setFields] = useState({});
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setFields({});
    try {
      await api.post('/users', v);
      const d = await api.post('/sessions', { email: v.email, password: v.password });
      setUser(d.user);
      go('#/');
    } catch (x) {
      setFields(x.fields || {});
      setErr(x.code === 'email_taken' ? 'An account with this email exists already. Sign in instead.' : errorText(x));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="narrow">
      <Title>Create an account</Title>
      <form onSubmit={submit}>
        <Field label="Display name" error={fields.display_name}>{(id, d) => <input id={id} aria-describedby={d} required maxLength={60} autocomplete="nickname" value={v.display_name} onInput={on('display_name')} />}</Field>
        <Field label="Email" error={fields.email}>{(id, d) => <input id={id} aria-describedby={d} type="email" required autocomplete="email" value={v.email} onInput={on('email')} />}</Field>
        <Field label="Password" hint="10 to 128 characters" error={fields.password}>{(id, d) => <input id={id} aria-describedby={d} type="password" required minLength={10} maxLength={128} autocomplete="new-password" value={v.password} onInput={on('password')} />}</Field>
        <Notice>{err}</Notice>
        <button type="submit" disabled={busy}>Sign up</button>
      </form>
      <p>Have an account? <a href="#/signin">Sign in</a></p>
    </section>
  );
}

// Shown by views that need a session.
export function NeedSignIn() {
  return <p class="notice info">Please <a href="#/signin">sign in</a> first.</p>;
}
