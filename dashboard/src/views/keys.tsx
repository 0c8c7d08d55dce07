/** Signing keys: values hidden until revealed, create, delete, and how to rotate without downtime. */
import { useState } from 'preact/hooks';
import { useDashboard, writeProps } from '../context';
import { CopyButton } from '../components/copy-button';
import { Empty, messageOf } from '../components/states';

export function KeysView() {
  const { api, canWrite, keys, refresh } = useDashboard();
  const [shown, setShown] = useState<Set<string>>(new Set());
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const w = writeProps(canWrite);

  const toggle = (n: string) =>
    setShown((s) => {
      const next = new Set(s);
      if (next.has(n)) next.delete(n);
      else next.add(n);
      return next;
    });

  const run = async (what: () => Promise<unknown>, done: string) => {
    setStatus(null);
    try {
      await what();
      await refresh();
      setError(null);
      setStatus(done);
    } catch (e) {
      setError(messageOf(e));
    }
  };

  const create = (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(n)) return setError('A key name is 1 to 64 letters, digits, - or _');
    void run(() => api.createKey(n), `Created key ${n}`).then(() => setName(''));
  };

  return (
    <>
      <h1>Signing keys</h1>
      <section aria-labelledby="keys-heading" class="panel">
        <h2 id="keys-heading">Keys</h2>
        {keys.length === 0 ? (
          <Empty>No signing keys.</Empty>
        ) : (
          <ul class="keys" aria-label="Signing keys">
            {keys.map((k) => (
              <li key={k.name}>
                <span class="key-name">{k.name}</span>
                <code class="key-value">
                  {shown.has(k.name) ? (
                    k.value
                  ) : (
                    <>
                      <span aria-hidden="true">{'•'.repeat(16)}</span>
                      <span class="sr-only">hidden</span>
                    </>
                  )}
                </code>
                <span class="row">
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`${shown.has(k.name) ? 'Hide' : 'Reveal'} key ${k.name}`}
                    onClick={() => toggle(k.name)}
                  >
                    {shown.has(k.name) ? 'Hide' : 'Reveal'}
                  </button>
                  {shown.has(k.name) && <CopyButton text={k.value} label={`Copy key ${k.name}`} />}
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Delete key ${k.name}`}
                    {...w}
                    onClick={() => void run(() => api.deleteKey(k.name), `Deleted key ${k.name}`)}
                  >
                    Delete
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
        <form onSubmit={create} class="row">
          <div>
            <label for="key-name">Key name</label>
            <input id="key-name" value={name} {...w} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <button type="submit" {...w}>
            Create key
          </button>
        </form>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {status && <p role="status">{status}</p>}
      </section>
      <section aria-labelledby="rotation-heading" class="panel">
        <h2 id="rotation-heading">Rotating a key</h2>
        <p>
          Every key of the account verifies a signed URL, so a key can be replaced without a moment where URLs
          fail:
        </p>
        <ol>
          <li>Create a second key.</li>
          <li>
            Move every signer (your servers, this dashboard signs with the first key listed) to the new key.
          </li>
          <li>Wait until the URLs signed with the old key have expired.</li>
          <li>Delete the old key.</li>
        </ol>
      </section>
    </>
  );
}
