/** Variants: the list, a create/edit form with a live preview, delete, and the account's delivery settings. */
import { useEffect, useState } from 'preact/hooks';
import { FITS, METADATA_MODES, type Fit, type Image, type MetadataMode, type Variant } from '../api';
import { useDashboard, writeProps } from '../context';
import { DeliveryImage } from '../components/delivery-image';
import { Empty, ErrorState, Loading, messageOf } from '../components/states';
import { flexibleOptions, withVariant } from '../urls';

interface Form {
  editing: boolean;
  name: string;
  width: string;
  height: string;
  fit: Fit;
  metadata: MetadataMode;
  alwaysPublic: boolean;
}

const EMPTY: Form = {
  editing: false,
  name: '',
  width: '',
  height: '',
  fit: 'scale-down',
  metadata: 'none',
  alwaysPublic: false,
};

function toForm(v: Variant): Form {
  return {
    editing: true,
    name: v.id,
    width: v.options.width ? String(v.options.width) : '',
    height: v.options.height ? String(v.options.height) : '',
    fit: v.options.fit,
    metadata: v.options.metadata,
    alwaysPublic: v.neverRequireSignedURLs,
  };
}

/** The variant a form describes, or the sentence that says what is wrong. */
function fromForm(f: Form): { variant?: Variant; error?: string } {
  if (!/^[A-Za-z0-9_-]{1,99}$/.test(f.name)) return { error: 'The name is 1 to 99 letters, digits, - or _' };
  const dim = (s: string, label: string): number | undefined | string => {
    if (s.trim() === '') return undefined;
    const n = Number(s);
    return Number.isInteger(n) && n >= 1 && n <= 12_000
      ? n
      : `${label} is a whole number of pixels from 1 to 12000`;
  };
  const width = dim(f.width, 'Width');
  const height = dim(f.height, 'Height');
  if (typeof width === 'string') return { error: width };
  if (typeof height === 'string') return { error: height };
  if (width === undefined && height === undefined) return { error: 'Give a width, a height or both' };
  const options: Variant['options'] = { fit: f.fit, metadata: f.metadata };
  if (width !== undefined) options.width = width;
  if (height !== undefined) options.height = height;
  return { variant: { id: f.name, options, neverRequireSignedURLs: f.alwaysPublic } };
}

export function VariantsView() {
  const { api, canWrite, variants, refresh } = useDashboard();
  const [form, setForm] = useState<Form>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const w = writeProps(canWrite, busy);

  const save = async (e: Event) => {
    e.preventDefault();
    setStatus(null);
    const { variant, error: invalid } = fromForm(form);
    if (!variant) return setError(invalid ?? null);
    setError(null);
    setBusy(true);
    try {
      if (form.editing) await api.updateVariant(variant);
      else await api.createVariant(variant);
      await refresh();
      setStatus(`Saved variant ${variant.id}`);
      setForm(EMPTY);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (id: string) => {
    setStatus(null);
    try {
      await api.deleteVariant(id);
      await refresh();
      setStatus(`Deleted variant ${id}`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <>
      <h1>Variants</h1>
      <section aria-labelledby="variant-list-heading" class="panel">
        <h2 id="variant-list-heading">Variants</h2>
        {variants.length === 0 ? (
          <Empty>No variants.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="stack">
              <caption class="sr-only">Variants of the account</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Size</th>
                  <th scope="col">Fit</th>
                  <th scope="col">Metadata</th>
                  <th scope="col">Public access</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {variants.map((v) => (
                  <tr key={v.id}>
                    <th scope="row">{v.id}</th>
                    <td data-label="Size">
                      {v.options.width ?? 'any'} × {v.options.height ?? 'any'}
                    </td>
                    <td data-label="Fit">{v.options.fit}</td>
                    <td data-label="Metadata">{v.options.metadata}</td>
                    <td data-label="Public access">
                      {v.neverRequireSignedURLs ? 'always' : 'signed when private'}
                    </td>
                    <td class="actions">
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Edit variant ${v.id}`}
                        {...writeProps(canWrite)}
                        onClick={() => setForm(toForm(v))}
                      >
                        Edit
                      </button>
                      {v.id === 'public' ? (
                        <button
                          type="button"
                          class="danger"
                          aria-label="Delete variant public"
                          disabled
                          aria-describedby="public-reason"
                        >
                          Delete
                        </button>
                      ) : (
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Delete variant ${v.id}`}
                          {...writeProps(canWrite)}
                          onClick={() => void remove(v.id)}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p id="public-reason" class="hint">
          The public variant cannot be deleted: every image is served through it.
        </p>
        {status && <p role="status">{status}</p>}
      </section>

      <section aria-labelledby="variant-form-heading" class="panel">
        <h2 id="variant-form-heading">{form.editing ? `Edit variant ${form.name}` : 'New variant'}</h2>
        <form onSubmit={save} class="variant-form">
          <div class="fields">
            <div>
              <label for="variant-name">Name</label>
              <input
                id="variant-name"
                value={form.name}
                readOnly={form.editing}
                {...w}
                onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
              />
            </div>
            <div>
              <label for="variant-width">Width</label>
              <input
                id="variant-width"
                type="number"
                min={1}
                max={12000}
                value={form.width}
                {...w}
                onInput={(e) => setForm({ ...form, width: e.currentTarget.value })}
              />
            </div>
            <div>
              <label for="variant-height">Height</label>
              <input
                id="variant-height"
                type="number"
                min={1}
                max={12000}
                value={form.height}
                {...w}
                onInput={(e) => setForm({ ...form, height: e.currentTarget.value })}
              />
            </div>
            <div>
              <label for="variant-fit">Fit</label>
              <select
                id="variant-fit"
                value={form.fit}
                {...w}
                onChange={(e) => setForm({ ...form, fit: e.currentTarget.value as Fit })}
              >
                {FITS.map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="variant-metadata">Metadata</label>
              <select
                id="variant-metadata"
                value={form.metadata}
                {...w}
                onChange={(e) => setForm({ ...form, metadata: e.currentTarget.value as MetadataMode })}
              >
                {METADATA_MODES.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </div>
            <label class="check">
              <input
                type="checkbox"
                checked={form.alwaysPublic}
                {...w}
                onChange={(e) => setForm({ ...form, alwaysPublic: e.currentTarget.checked })}
              />{' '}
              Always allow public access
            </label>
          </div>
          <Preview form={form} />
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="row">
            <button type="submit" {...w}>
              Save variant
            </button>
            {form.editing && (
              <button type="button" class="secondary" onClick={() => setForm(EMPTY)}>
                Cancel editing
              </button>
            )}
          </div>
        </form>
      </section>
      <Settings />
    </>
  );
}

/** The form applied to a chosen image before saving: a flexible-variant URL built from the values. */
function Preview({ form }: { form: Form }) {
  const { api, config } = useDashboard();
  const [images, setImages] = useState<Image[] | null>(null);
  const [chosen, setChosen] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [size, setSize] = useState<string | null>(null);
  useEffect(() => {
    api.listV2({ perPage: 20 }).then((p) => {
      setImages(p.images);
      setChosen((p.images.find((i) => !i.requireSignedURLs) ?? p.images[0])?.id ?? '');
    }, setError);
  }, [api]);
  if (error) return <ErrorState error={error} />;
  if (!images) return <Loading label="Loading images for the preview…" />;
  if (images.length === 0) return <Empty>Upload an image to preview a variant.</Empty>;
  const image = images.find((i) => i.id === chosen) ?? images[0]!;
  const { variant } = fromForm(form);
  const base = image.variants[0];
  const url = variant && base ? withVariant(base, flexibleOptions(variant.options)) : undefined;
  return (
    <div class="preview-box">
      <label for="preview-image">Preview image</label>
      <select id="preview-image" value={image.id} onChange={(e) => setChosen(e.currentTarget.value)}>
        {images.map((i) => (
          <option key={i.id} value={i.id}>
            {i.id}
          </option>
        ))}
      </select>
      {!config?.flexible_variants ? (
        <p class="hint">
          The live preview uses a flexible variant: turn on flexible variants below to see it.
        </p>
      ) : image.requireSignedURLs ? (
        <p class="hint">
          This image requires signed URLs, which flexible variants never serve: choose a public image for the
          preview.
        </p>
      ) : !url ? (
        <p class="hint">Give a valid name and a width or height to see the preview.</p>
      ) : (
        <figure>
          <DeliveryImage
            url={url}
            signed={image.requireSignedURLs}
            alt="Variant preview"
            class="variant-preview"
            onLoad={(img) => setSize(`${img.naturalWidth} × ${img.naturalHeight} px`)}
          />
          <figcaption>{size ? `Preview: ${size}` : 'Preview'}</figcaption>
        </figure>
      )}
    </div>
  );
}

function Settings() {
  const { api, canWrite, config, refresh } = useDashboard();
  const [flexible, setFlexible] = useState(config?.flexible_variants ?? false);
  const [ttl, setTtl] = useState(String(config?.browser_ttl ?? 14400));
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const w = writeProps(canWrite);
  const save = async (e: Event) => {
    e.preventDefault();
    setStatus(null);
    const t = Number(ttl);
    if (!Number.isInteger(t)) return setError('The browser TTL is a whole number of seconds');
    try {
      await api.patchConfig({ flexible_variants: flexible, browser_ttl: t });
      await refresh();
      setError(null);
      setStatus('Settings saved');
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <section aria-labelledby="settings-heading" class="panel">
      <h2 id="settings-heading">Delivery settings</h2>
      <form onSubmit={save} class="fields">
        <label class="check">
          <input
            type="checkbox"
            checked={flexible}
            {...w}
            onChange={(e) => setFlexible(e.currentTarget.checked)}
          />{' '}
          Flexible variants
        </label>
        <div>
          <label for="browser-ttl">Browser TTL (seconds)</label>
          <input
            id="browser-ttl"
            type="number"
            value={ttl}
            {...w}
            onInput={(e) => setTtl(e.currentTarget.value)}
          />
        </div>
        <button type="submit" {...w}>
          Save settings
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {status && <p role="status">{status}</p>}
    </section>
  );
}
