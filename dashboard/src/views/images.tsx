/** Images: usage, upload, filters and the windowed thumbnail grid paged by v2 continuation tokens. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Image, Stats } from '../api';
import { useDashboard } from '../context';
import { DeliveryImage } from '../components/delivery-image';
import { Empty, ErrorState, Loading } from '../components/states';
import { Upload } from '../components/upload';
import { VirtualGrid } from '../components/virtual-grid';
import { smallestVariant, thumbnailUrl } from '../urls';

export const PAGE_SIZE = 200;
const CELL = 140;

interface Filters {
  creator: string;
  field: string;
  value: string;
}

export function ImagesView() {
  const { api, config, variants } = useDashboard();
  const [images, setImages] = useState<Image[]>([]);
  const [token, setToken] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [filters, setFilters] = useState<Filters>({ creator: '', field: '', value: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const [filterError, setFilterError] = useState<string | null>(null);
  const generation = useRef(0);
  const [uploads, setUploads] = useState(0);

  const load = useCallback(
    async (reset: boolean, next: string | null) => {
      const gen = reset ? ++generation.current : generation.current;
      setLoading(true);
      setError(null);
      try {
        const meta = filters.field ? { field: filters.field, value: filters.value } : undefined;
        const page = await api.listV2({
          perPage: PAGE_SIZE,
          token: next ?? undefined,
          creator: filters.creator || undefined,
          meta,
        });
        if (gen !== generation.current) return;
        setImages((list) => (reset ? page.images : [...list, ...page.images]));
        setToken(page.continuation_token);
      } catch (e) {
        if (gen === generation.current) setError(e);
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [api, filters],
  );

  useEffect(() => {
    setImages([]);
    setToken(null);
    void load(true, null);
  }, [load]);

  // Infinite scroll: the next page loads when the end of the grid comes near; the button does the same.
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !token || loading || error) return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void load(false, token);
      },
      { rootMargin: '400px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [token, loading, error, load]);

  const applyFilters = (e: Event) => {
    e.preventDefault();
    if (draft.field && !/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(draft.field)) {
      setFilterError('A metadata field is letters, digits and _, with . between nested names');
      return;
    }
    if (draft.field && draft.value === '') {
      setFilterError('Give the value the metadata field must equal');
      return;
    }
    setFilterError(null);
    setFilters({ ...draft });
  };

  const smallest = smallestVariant(variants)?.id;
  const flexible = config?.flexible_variants ?? false;
  const filtered = filters.creator !== '' || filters.field !== '';

  return (
    <>
      <h1>Images</h1>
      <Usage version={uploads} />
      <Upload
        onUploaded={(img) => {
          setUploads((n) => n + 1);
          setImages((list) => (filtered || list.some((i) => i.id === img.id) ? list : [img, ...list]));
        }}
      />
      <section aria-labelledby="library-heading" class="panel">
        <h2 id="library-heading">Library</h2>
        <form class="filters" onSubmit={applyFilters} aria-label="Filters">
          <div>
            <label for="filter-creator">Creator</label>
            <input
              id="filter-creator"
              value={draft.creator}
              onInput={(e) => setDraft({ ...draft, creator: e.currentTarget.value })}
            />
          </div>
          <div>
            <label for="filter-field">Metadata field</label>
            <input
              id="filter-field"
              placeholder="e.g. owner"
              value={draft.field}
              onInput={(e) => setDraft({ ...draft, field: e.currentTarget.value })}
            />
          </div>
          <div>
            <label for="filter-value">Metadata value</label>
            <input
              id="filter-value"
              value={draft.value}
              onInput={(e) => setDraft({ ...draft, value: e.currentTarget.value })}
            />
          </div>
          <div class="row">
            <button type="submit">Apply filters</button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                const empty = { creator: '', field: '', value: '' };
                setDraft(empty);
                setFilters(empty);
                setFilterError(null);
              }}
            >
              Clear filters
            </button>
          </div>
          {filterError && (
            <p class="error" role="alert">
              {filterError}
            </p>
          )}
        </form>
        <p class="count" role="status">
          {images.length === 0 && loading
            ? ''
            : `${images.length} image${images.length === 1 ? '' : 's'} shown${token ? ', more available' : ''}`}
        </p>
        {images.length > 0 && (
          <VirtualGrid
            items={images}
            cell={CELL}
            gap={12}
            label="Images"
            keyOf={(img) => img.id}
            render={(img) => (
              <a href={`#/images/${encodeURIComponent(img.id)}`} class="thumb" title={img.id}>
                <DeliveryImage
                  url={thumbnailUrl(img, { flexible, smallest, size: 300 })}
                  signed={img.requireSignedURLs}
                  alt={img.filename ?? img.id}
                  width={CELL}
                  height={CELL}
                />
                <span class="caption">
                  {img.requireSignedURLs && <span class="badge">Private</span>} {img.id}
                </span>
              </a>
            )}
          />
        )}
        {loading && <Loading label="Loading images…" />}
        {error ? <ErrorState error={error} retry={() => void load(images.length === 0, token)} /> : null}
        {!loading && !error && images.length === 0 && (
          <Empty>{filtered ? 'No images match these filters.' : 'No images yet: upload some above.'}</Empty>
        )}
        <div ref={sentinel} />
        {token && !loading && !error && (
          <button type="button" class="secondary" onClick={() => void load(false, token)}>
            Load more
          </button>
        )}
      </section>
    </>
  );
}

function Usage({ version }: { version: number }) {
  const { api } = useDashboard();
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    setError(null);
    api.stats().then(setStats, setError);
  }, [api]);
  useEffect(load, [load, version]);
  if (error) return <ErrorState error={error} retry={load} />;
  if (!stats) return <Loading label="Loading usage…" />;
  const { current, allowed } = stats.count;
  return (
    <section aria-labelledby="usage-heading" class="usage">
      <h2 id="usage-heading">Usage</h2>
      <label for="usage-meter">
        Images stored: {current.toLocaleString('en')} of {allowed.toLocaleString('en')}
      </label>
      <meter id="usage-meter" min={0} max={allowed} value={current} high={allowed * 0.9} />
    </section>
  );
}
