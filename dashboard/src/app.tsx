/** The shell: sign-in, then navigation between images, one image, variants and keys (hash routes). */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Api, type AccountConfig, type Session, type SigningKey, type Variant } from './api';
import { Dashboard, READ_ONLY_REASON, type DashboardState } from './context';
import { clearSession, loadSession, saveSession } from './session';
import { SignIn } from './views/sign-in';
import { ImagesView } from './views/images';
import { ImageDetail } from './views/image-detail';
import { VariantsView } from './views/variants';
import { KeysView } from './views/keys';
import { ErrorState, Loading } from './components/states';

type Route = { view: 'images' } | { view: 'image'; id: string } | { view: 'variants' } | { view: 'keys' };

function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  if (path.startsWith('images/') && path.length > 'images/'.length) {
    try {
      return { view: 'image', id: decodeURIComponent(path.slice('images/'.length)) };
    } catch {
      return { view: 'images' };
    }
  }
  if (path === 'variants') return { view: 'variants' };
  if (path === 'keys') return { view: 'keys' };
  return { view: 'images' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

interface Signed {
  api: Api;
  canWrite: boolean;
}

export function App() {
  const [signed, setSigned] = useState<Signed | null>(null);
  const [restoring, setRestoring] = useState(() => loadSession() !== null);

  const signIn = useCallback(async (session: Session) => {
    const api = new Api(session);
    await api.stats(); // a wrong token or account fails here with the API's message
    const canWrite = await api.canWrite();
    saveSession(session);
    setSigned({ api, canWrite });
  }, []);

  useEffect(() => {
    const saved = loadSession();
    if (!saved) return;
    signIn(saved)
      .catch(() => clearSession())
      .finally(() => setRestoring(false));
  }, [signIn]);

  const signOut = () => {
    clearSession();
    setSigned(null);
    location.hash = '';
  };

  if (restoring)
    return (
      <main id="main">
        <Loading label="Signing in…" />
      </main>
    );
  if (!signed) return <SignIn onSignIn={signIn} />;
  return <Shell signed={signed} onSignOut={signOut} />;
}

function Shell({ signed, onSignOut }: { signed: Signed; onSignOut: () => void }) {
  const route = useRoute();
  const [config, setConfig] = useState<AccountConfig | null>(null);
  const [variants, setVariants] = useState<Variant[]>([]);
  const [keys, setKeys] = useState<SigningKey[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const [c, v, k] = await Promise.all([signed.api.config(), signed.api.variants(), signed.api.keys()]);
      setConfig(c);
      setVariants(v);
      setKeys(k);
      setLoadError(null);
    } catch (e) {
      setLoadError(e);
    } finally {
      setLoaded(true);
    }
  }, [signed.api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const state: DashboardState = useMemo(
    () => ({ api: signed.api, canWrite: signed.canWrite, config, variants, keys, refresh }),
    [signed, config, variants, keys, refresh],
  );

  const current = route.view === 'image' ? 'images' : route.view;
  const link = (view: string, label: string) => (
    <a href={`#/${view}`} aria-current={current === view ? 'page' : undefined}>
      {label}
    </a>
  );

  return (
    <Dashboard.Provider value={state}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Pictor</span>
        <nav aria-label="Dashboard">
          {link('images', 'Images')}
          {link('variants', 'Variants')}
          {link('keys', 'Signing keys')}
        </nav>
        <span class="account" title="Account ID">
          {signed.api.session.accountId.slice(0, 8)}…
        </span>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {!signed.canWrite && (
        <p class="banner" id={READ_ONLY_REASON} role="note">
          Read-only token: it has Images Read but not Images Write, so uploading, editing and deleting are
          disabled.
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {!loaded ? (
          <Loading label="Loading account settings…" />
        ) : loadError ? (
          <ErrorState error={loadError} retry={() => void refresh()} />
        ) : route.view === 'images' ? (
          <ImagesView />
        ) : route.view === 'image' ? (
          <ImageDetail id={route.id} />
        ) : route.view === 'variants' ? (
          <VariantsView />
        ) : (
          <KeysView />
        )}
      </main>
    </Dashboard.Provider>
  );
}
