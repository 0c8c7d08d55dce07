/** What every view gets: the API client, whether the token may write, and the account's settings. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AccountConfig, Api, SigningKey, Variant } from './api';

export interface DashboardState {
  api: Api;
  canWrite: boolean;
  config: AccountConfig | null;
  variants: Variant[];
  keys: SigningKey[];
  /** Reloads config, variants and keys after a view changed them. */
  refresh: () => Promise<void>;
}

export const Dashboard = createContext<DashboardState | null>(null);

export function useDashboard(): DashboardState {
  const d = useContext(Dashboard);
  if (!d) throw new Error('useDashboard outside the signed-in shell');
  return d;
}

/** Id of the sentence that explains why write controls are disabled (read-only token). */
export const READ_ONLY_REASON = 'read-only-reason';

/** Props for a write control: disabled with the reason attached when the token is read-only. */
export function writeProps(
  canWrite: boolean,
  busy = false,
): { disabled: boolean; 'aria-describedby'?: string } {
  return canWrite ? { disabled: busy } : { disabled: true, 'aria-describedby': READ_ONLY_REASON };
}
