/** An <img> of a delivery URL, signed in the browser first when the image requires signed URLs. */
import { useEffect, useState } from 'preact/hooks';
import { useDashboard } from '../context';
import { roundedExpiry, signUrl } from '../signing';

/** The URL to load: as is, or signed with the account's first key (expiry rounded to the hour). */
export function useDeliveryUrl(url: string | undefined, signed: boolean): { src?: string; error?: string } {
  const { keys } = useDashboard();
  const key = keys[0]?.value;
  const [out, setOut] = useState<{ src?: string; error?: string }>({});
  useEffect(() => {
    let live = true;
    if (!url) setOut({ error: 'No variant' });
    else if (!signed) setOut({ src: url });
    else if (!key) setOut({ error: 'Private, and the account has no signing key' });
    else
      signUrl(url, key, roundedExpiry(Date.now())).then(
        (src) => live && setOut({ src }),
        (e: unknown) => live && setOut({ error: e instanceof Error ? e.message : String(e) }),
      );
    return () => {
      live = false;
    };
  }, [url, signed, key]);
  return out;
}

export function DeliveryImage(props: {
  url: string | undefined;
  signed: boolean;
  alt: string;
  class?: string;
  width?: number;
  height?: number;
  onLoad?: (img: HTMLImageElement) => void;
}) {
  const { src, error } = useDeliveryUrl(props.url, props.signed);
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [src]);
  if (error || failed) {
    return (
      <span
        class={`img-missing ${props.class ?? ''}`}
        role="img"
        aria-label={`${props.alt}: ${error ?? 'failed to load'}`}
      >
        {error ?? 'Failed to load'}
      </span>
    );
  }
  if (!src) return <span class={`img-missing ${props.class ?? ''}`} aria-hidden="true" />;
  return (
    <img
      src={src}
      alt={props.alt}
      class={props.class}
      width={props.width}
      height={props.height}
      loading="lazy"
      decoding="async"
      onError={() => setFailed(true)}
      onLoad={(e) => props.onLoad?.(e.currentTarget)}
    />
  );
}
