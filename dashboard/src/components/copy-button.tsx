import { useState } from 'preact/hooks';

/** Copies a text; the result is announced beside the button (its own name stays the same). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<'' | 'Copied' | 'Copy failed'>('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('Copied');
    } catch {
      setDone('Copy failed');
    }
    setTimeout(() => setDone(''), 2000);
  };
  return (
    <>
      <button type="button" class="secondary" aria-label={label} onClick={copy}>
        Copy
      </button>
      <span role="status" class="hint">
        {done}
      </span>
    </>
  );
}
