import { useState } from 'preact/hooks';
import { ErrorAlert } from '../components/Alert';
import { useAction, useTitle } from '../hooks';
import { href, navigate, safeNext } from '../router';
import { signIn, signUp } from '../session';

const LABELS = { email: 'Email', password: 'Password', name: 'Name' };

export function SignInPage({ params }: { params: URLSearchParams }) {
  useTitle('Sign in');
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (await action.run(() => signIn(email, password))) navigate(next, { replace: true });
  }

  return (
    <section aria-labelledby="page-title" class="narrow">
      <h1 id="page-title" tabIndex={-1}>
        Sign in
      </h1>
      <form class="form" onSubmit={onSubmit}>
        <div class="field">
          <label for="email">Email</label>
          <input id="email" type="email" name="email" autoComplete="username" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" type="password" name="password" autoComplete="current-password" required maxLength={1024} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
        <ErrorAlert error={action.error} labels={LABELS} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={action.busy}>
            Sign in
          </button>
        </div>
      </form>
      <p>
        New here? <a href={href(`/signup?next=${encodeURIComponent(next)}`)}>Create an account</a>
      </p>
    </section>
  );
}

export function SignUpPage({ params }: { params: URLSearchParams }) {
  useTitle('Sign up');
  const next = safeNext(params.get('next'));
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (await action.run(() => signUp(name, email, password))) navigate(next, { replace: true });
  }

  return (
    <section aria-labelledby="page-title" class="narrow">
      <h1 id="page-title" tabIndex={-1}>
        Sign up
      </h1>
      <form class="form" onSubmit={onSubmit}>
        <div class="field">
          <label for="name">Name</label>
          <input id="name" name="name" autoComplete="name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="email">Email</label>
          <input id="email" type="email" name="email" autoComplete="email" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            type="password"
            name="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={72}
            aria-describedby="password-hint"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <p id="password-hint" class="hint">
            At least 8 characters.
          </p>
        </div>
        <ErrorAlert error={action.error} labels={LABELS} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={action.busy}>
            Create account
          </button>
        </div>
      </form>
      <p>
        <a href={href(`/signin?next=${encodeURIComponent(next)}`)}>I already have an account</a>
      </p>
    </section>
  );
}
