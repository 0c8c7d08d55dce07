/** One image: its variants (URL, copy, preview), the original, metadata, privacy, signed URLs, delete. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Image } from '../api';
import { useDashboard, writeProps } from '../context';
import { CopyButton } from '../components/copy-button';
import { DeliveryImage } from '../components/delivery-image';
import { ErrorState, Loading, messageOf } from '../components/states';
import { parseMetadata } from '../components/upload';
import { signUrl } from '../signing';
import { variantName } from '../urls';

export function ImageDetail({ id }: { id: string }) {
  const { api } = useDashboard();
  const [image, setImage] = useState<Image | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    setError(null);
    api.image(id).then(setImage, setError);
  }, [api, id]);
  useEffect(load, [load]);

  return (
    <>
      <p>
        <a href="#/images">← All images</a>
      </p>
      <h1 class="image-id">{id}</h1>
      {error ? (
        <ErrorState error={error} retry={load} />
      ) : !image ? (
        <Loading label="Loading the image…" />
      ) : (
        <Details image={image} onChange={setImage} />
      )}
    </>
  );
}

function Details({ image, onChange }: { image: Image; onChange: (i: Image) => void }) {
  return (
    <div class="detail">
      <Variants image={image} />
      <Original image={image} />
      <MetadataEditor image={image} onChange={onChange} />
      <Privacy image={image} onChange={onChange} />
      <SignedUrl image={image} />
      <DeleteImage image={image} />
    </div>
  );
}

function Variants({ image }: { image: Image }) {
  return (
    <section aria-labelledby="variants-heading" class="panel">
      <h2 id="variants-heading">Variants</h2>
      <ul class="variant-list">
        {image.variants.map((url) => {
          const name = variantName(url);
          return (
            <li key={url}>
              <h3>{name}</h3>
              <div class="row">
                <label class="sr-only" for={`url-${name}`}>
                  URL of variant {name}
                </label>
                <input id={`url-${name}`} class="url" readOnly value={url} />
                <CopyButton text={url} label={`Copy URL of variant ${name}`} />
              </div>
              <div class="preview-frame">
                <DeliveryImage
                  url={url}
                  signed={image.requireSignedURLs}
                  alt={`Preview of variant ${name}`}
                  class="preview"
                />
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

function Original({ image }: { image: Image }) {
  const { api } = useDashboard();
  const [info, setInfo] = useState<{ size: number; type: string; width?: number; height?: number } | null>(
    null,
  );
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    api.original(image.id).then(
      async (o) => {
        // Dimensions from the browser's own decoder (the API's Image object does not carry them).
        const dims = await createImageBitmap(o.blob).then(
          (b) => ({ width: b.width, height: b.height }),
          () => ({}),
        );
        if (live) setInfo({ size: o.size, type: o.type, ...dims });
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, image.id]);
  return (
    <section aria-labelledby="original-heading" class="panel">
      <h2 id="original-heading">Original</h2>
      {error ? (
        <ErrorState error={error} />
      ) : (
        // The list keeps its shape while loading, so nothing below it moves when the facts arrive.
        <dl class="facts" aria-busy={!info}>
          <dt>Size</dt>
          <dd>{info ? formatBytes(info.size) : '…'}</dd>
          <dt>Format</dt>
          <dd>{info ? info.type : '…'}</dd>
          <dt>Dimensions</dt>
          <dd>{!info ? '…' : info.width !== undefined ? `${info.width} × ${info.height} px` : 'unknown'}</dd>
          <dt>File name</dt>
          <dd>{image.filename ?? '—'}</dd>
          <dt>Uploaded</dt>
          <dd>{new Date(image.uploaded).toLocaleString('en')}</dd>
          <dt>Creator</dt>
          <dd>{image.creator ?? '—'}</dd>
        </dl>
      )}
    </section>
  );
}

function MetadataEditor({ image, onChange }: { image: Image; onChange: (i: Image) => void }) {
  const { api, canWrite } = useDashboard();
  const [text, setText] = useState(() => JSON.stringify(image.meta ?? {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const parsed = parseMetadata(text);
    if (parsed.error) return setError(parsed.error);
    setError(null);
    setBusy(true);
    try {
      onChange(await api.patchImage(image.id, { metadata: parsed.value ?? {} }));
      setSaved(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const w = writeProps(canWrite, busy);
  return (
    <section aria-labelledby="metadata-heading" class="panel">
      <h2 id="metadata-heading">Metadata</h2>
      <form onSubmit={save}>
        <label for="metadata">Metadata</label>
        <textarea
          id="metadata"
          rows={6}
          spellcheck={false}
          readOnly={!canWrite}
          value={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'metadata-error' : w['aria-describedby']}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setSaved(false);
          }}
        />
        {error && (
          <p id="metadata-error" class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" {...w}>
            Save metadata
          </button>
          {saved && <span role="status">Saved</span>}
        </div>
      </form>
    </section>
  );
}

function Privacy({ image, onChange }: { image: Image; onChange: (i: Image) => void }) {
  const { api, canWrite } = useDashboard();
  // Shown at once; put back if the API refuses.
  const [checked, setChecked] = useState(image.requireSignedURLs);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setChecked(image.requireSignedURLs), [image.requireSignedURLs]);
  const toggle = async (value: boolean) => {
    setChecked(value);
    setBusy(true);
    setError(null);
    try {
      onChange(await api.patchImage(image.id, { requireSignedURLs: value }));
    } catch (e) {
      setChecked(!value);
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="privacy-heading" class="panel">
      <h2 id="privacy-heading">Access</h2>
      <label class="check">
        <input
          type="checkbox"
          checked={checked}
          {...writeProps(canWrite, busy)}
          onChange={(e) => void toggle(e.currentTarget.checked)}
        />{' '}
        Require signed URLs
      </label>
      <p class="hint">
        Private images are delivered only with a valid signature, except through variants that always allow
        public access.
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function SignedUrl({ image }: { image: Image }) {
  const { keys } = useDashboard();
  const [variant, setVariant] = useState(image.variants[0] ?? '');
  const [minutes, setMinutes] = useState('60');
  const [out, setOut] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const generate = async (e: Event) => {
    e.preventDefault();
    const m = Number(minutes);
    if (!Number.isInteger(m) || m < 1 || m > 525_600)
      return setError('The expiry is a whole number of minutes, from 1 to 525600');
    const key = keys[0];
    if (!key) return setError('The account has no signing key: create one under Signing keys');
    try {
      setOut(await signUrl(variant, key.value, Math.floor(Date.now() / 1000) + m * 60));
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <section aria-labelledby="signed-heading" class="panel">
      <h2 id="signed-heading">Signed URL generator</h2>
      <form onSubmit={generate} class="fields">
        <div>
          <label for="signed-variant">Variant</label>
          <select id="signed-variant" value={variant} onChange={(e) => setVariant(e.currentTarget.value)}>
            {image.variants.map((u) => (
              <option key={u} value={u}>
                {variantName(u)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="signed-minutes">Expires in (minutes)</label>
          <input
            id="signed-minutes"
            type="number"
            min={1}
            max={525600}
            value={minutes}
            onInput={(e) => setMinutes(e.currentTarget.value)}
          />
        </div>
        <button type="submit">Generate signed URL</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {out && (
        <div class="row">
          <label class="sr-only" for="signed-url">
            Signed URL
          </label>
          <input id="signed-url" class="url" readOnly value={out} />
          <CopyButton text={out} label="Copy signed URL" />
        </div>
      )}
    </section>
  );
}

function DeleteImage({ image }: { image: Image }) {
  const { api, canWrite } = useDashboard();
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await api.deleteImage(image.id);
      dialog.current?.close();
      location.hash = '#/images';
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="delete-heading" class="panel">
      <h2 id="delete-heading">Delete</h2>
      <button
        type="button"
        class="danger"
        {...writeProps(canWrite)}
        onClick={() => dialog.current?.showModal()}
      >
        Delete
      </button>
      <dialog ref={dialog} aria-labelledby="delete-dialog-title">
        <h2 id="delete-dialog-title">Delete {image.id}?</h2>
        <p>The image and all its variants stop being served. This cannot be undone.</p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="button" class="danger" disabled={busy} onClick={() => void confirm()}>
            Delete permanently
          </button>
          <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
