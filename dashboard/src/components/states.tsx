/** Loading, error and empty states, announced to screen readers. */
import type { ComponentChildren } from 'preact';

export function Loading({ label }: { label: string }) {
  return (
    <p class="state" role="status">
      <span class="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="state error" role="alert">
      <p>{messageOf(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
