/**
 * Upload: several files through the "Upload images" input or by dropping them on the drop zone, each
 * with its own progress bar and its own error; an optional custom id (suffixed -2, -3… for several
 * files) and metadata validated as JSON before anything is sent.
 */
import { useRef, useState } from 'preact/hooks';
import type { Image } from '../api';
import { useDashboard, writeProps } from '../context';
import { messageOf } from './states';

interface Item {
  key: number;
  name: string;
  progress: number;
  status: 'uploading' | 'done' | 'failed';
  error?: string;
}

let nextKey = 1;

export function parseMetadata(text: string): { value?: Record<string, unknown>; error?: string } {
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      return { error: 'Metadata must be a JSON object, like {"owner": "me"}' };
    return { value: v as Record<string, unknown> };
  } catch (e) {
    return { error: `Metadata is not valid JSON: ${messageOf(e)}` };
  }
}

export function Upload({ onUploaded }: { onUploaded: (image: Image) => void }) {
  const { api, canWrite } = useDashboard();
  const [items, setItems] = useState<Item[]>([]);
  const [customId, setCustomId] = useState('');
  const [meta, setMeta] = useState('');
  const [signed, setSigned] = useState(false);
  const [metaError, setMetaError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const w = writeProps(canWrite);

  const update = (key: number, patch: Partial<Item>) =>
    setItems((list) => list.map((it) => (it.key === key ? { ...it, ...patch } : it)));

  const start = (files: File[]) => {
    if (!canWrite || files.length === 0) return;
    const parsed = parseMetadata(meta);
    setMetaError(parsed.error ?? null);
    if (parsed.error) return;
    const id = customId.trim();
    const batch = files.map((f) => ({
      key: nextKey++,
      name: f.name,
      progress: 0,
      status: 'uploading' as const,
    }));
    setItems((list) => [...batch, ...list]);
    files.forEach((file, i) => {
      const item = batch[i]!;
      const fileId = id === '' ? undefined : i === 0 ? id : `${id}-${i + 1}`;
      api
        .upload(file, { id: fileId, metadata: parsed.value, requireSignedURLs: signed }, (p) =>
          update(item.key, { progress: p }),
        )
        .then(
          (image) => {
            update(item.key, { status: 'done', progress: 1 });
            onUploaded(image);
          },
          (e: unknown) => update(item.key, { status: 'failed', error: messageOf(e) }),
        );
    });
    if (input.current) input.current.value = '';
  };

  return (
    <section aria-labelledby="upload-heading" class="panel">
      <h2 id="upload-heading">Upload</h2>
      <section
        class={`drop ${over ? 'over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          if (canWrite) setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          start(Array.from(e.dataTransfer?.files ?? []));
        }}
        aria-label="Drop zone for images"
      >
        <label for="upload-input">Upload images</label>
        <input
          id="upload-input"
          type="file"
          multiple
          accept="image/*"
          {...w}
          onChange={(e) => start(Array.from(e.currentTarget.files ?? []))}
          ref={input}
        />
        <p class="hint">…or drop files here.</p>
      </section>
      <div class="fields">
        <div>
          <label for="upload-id">Custom id (optional)</label>
          <input
            id="upload-id"
            value={customId}
            {...w}
            aria-describedby={canWrite ? 'upload-id-hint' : w['aria-describedby']}
            onInput={(e) => setCustomId(e.currentTarget.value)}
          />
          <p id="upload-id-hint" class="hint">
            With several files: id, id-2, id-3…
          </p>
        </div>
        <div>
          <label for="upload-meta">Upload metadata (JSON, optional)</label>
          <textarea
            id="upload-meta"
            rows={2}
            value={meta}
            {...w}
            aria-invalid={metaError ? true : undefined}
            aria-describedby={metaError ? 'upload-meta-error' : w['aria-describedby']}
            onInput={(e) => setMeta(e.currentTarget.value)}
          />
          {metaError && (
            <p id="upload-meta-error" class="error" role="alert">
              {metaError}
            </p>
          )}
        </div>
        <label class="check">
          <input
            type="checkbox"
            checked={signed}
            {...w}
            onChange={(e) => setSigned(e.currentTarget.checked)}
          />{' '}
          Require signed URLs for these uploads
        </label>
      </div>
      {items.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {items.map((it) => (
            <li key={it.key} class={it.status}>
              <span class="name">{it.name}</span>
              <progress max={1} value={it.progress} aria-label={`Upload progress of ${it.name}`} />
              <span class="status" role={it.status === 'failed' ? 'alert' : undefined}>
                {it.status === 'uploading'
                  ? `${Math.round(it.progress * 100)}%`
                  : it.status === 'done'
                    ? 'Uploaded'
                    : `Failed: ${it.error}`}
              </span>
            </li>
          ))}
        </ul>
      )}
      <DirectUpload />
    </section>
  );
}

function DirectUpload() {
  const { api, canWrite } = useDashboard();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const endpoint = `${location.origin}${api.base}/images/v2/direct_upload`;
  const example = [
    `curl -X POST '${endpoint}' -H "Authorization: Bearer $API_TOKEN"`,
    `curl -X POST '${url ?? '<uploadURL from the answer>'}' -F file=@./image.jpg`,
  ].join('\n');
  return (
    <details class="direct">
      <summary>Upload from another machine (direct upload URL)</summary>
      <p>
        Ask for a one-time upload URL with a token, then anyone holding the URL can upload one image to it,
        with no token:
      </p>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the example scrolls sideways, and a
          scrollable block must take keyboard focus (axe: scrollable-region-focusable) */}
      <pre tabIndex={0}>
        <code>{example}</code>
      </pre>
      <div class="row">
        <button
          type="button"
          class="secondary"
          {...writeProps(canWrite)}
          onClick={() =>
            api.directUpload().then(
              (r) => {
                setUrl(r.uploadURL);
                setError(null);
              },
              (e: unknown) => setError(messageOf(e)),
            )
          }
        >
          Create a one-time upload URL
        </button>
        <CopyText text={example} />
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </details>
  );
}

function CopyText({ text }: { text: string }) {
  const [msg, setMsg] = useState('');
  return (
    <>
      <button
        type="button"
        class="secondary"
        onClick={() =>
          navigator.clipboard.writeText(text).then(
            () => setMsg('Copied'),
            () => setMsg('Copy failed'),
          )
        }
      >
        Copy the example
      </button>
      <span role="status" class="hint">
        {msg}
      </span>
    </>
  );
}
