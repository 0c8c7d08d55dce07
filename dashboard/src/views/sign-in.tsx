/** The sign-in form: an account id and an API token, checked against the API before anything is kept. */
import { useState } from 'preact/hooks';
import type { Session } from '../api';
import { messageOf } from '../components/states';

export function SignIn({ onSignIn }: { onSignIn: (s: Session) => Promise<void> }) {
  const [accountId, setAccountId] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSignIn({ accountId: accountId.trim(), token: token.trim() });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Pictor dashboard</h1>
      <p>
        Sign in with the account id and an API token (Images Read, or Read + Write). The token is kept in this
        tab only.
      </p>
      <form onSubmit={submit} aria-describedby={error ? 'sign-in-error' : undefined}>
        <label for="account-id">Account ID</label>
        <input
          id="account-id"
          name="account"
          required
          autoComplete="username"
          spellcheck={false}
          value={accountId}
          onInput={(e) => setAccountId(e.currentTarget.value)}
        />
        <label for="api-token">API token</label>
        <input
          id="api-token"
          name="token"
          type="password"
          required
          autoComplete="current-password"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
