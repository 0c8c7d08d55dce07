/** The signed-in session lives in memory and sessionStorage only: never a cookie, a URL or a log. */
import type { Session } from './api';

const KEY = 'pictor.dashboard.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.accountId === 'string' && typeof s.token === 'string'
      ? { accountId: s.accountId, token: s.token }
      : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
