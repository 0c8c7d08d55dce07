/** loadConfig(): settings that must fail at config time with a sentence naming the variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

const base = { PICTOR_DATA_DIR: '/tmp/pictor-config-test' };

describe('PICTOR_URL_ALLOWLIST', () => {
  it.each(['999.1.1.1/99', '10.0.0.0/33', '::1/129', 'abc', '1.2.3.4/8/9'])(
    '%s is refused at config time, naming the variable',
    (value) => {
      let err: unknown;
      try {
        loadConfig({ ...base, PICTOR_URL_ALLOWLIST: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('PICTOR_URL_ALLOWLIST');
      expect((err as Error).message).toContain(value);
    },
  );

  it('valid CIDRs and bare addresses of both families pass, in order', () => {
    const c = loadConfig({ ...base, PICTOR_URL_ALLOWLIST: '10.1.2.0/24, ::1/128,127.0.0.1,fd00::1' });
    expect(c.urlAllowlist).toEqual(['10.1.2.0/24', '::1/128', '127.0.0.1', 'fd00::1']);
  });
});
