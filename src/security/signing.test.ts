import { describe, expect, it } from 'vitest';
import { sign, verify } from './signing.js';

// Digest §6 test vector.
const KEY = 'Oix0bbNaT8Rge9PuyxUBrjI6zrgnsyJ5=';
const PATH = '/cheeW4oKsx5ljh8e8BoL2A/bc27a117-9509-446b-8c69-c81bfeac0a01/mobile';
const SIG = '72411885ee02134d38662f3e70ac8ff694f408e9d14b05125f6b022c3f403efa';

describe('signed URLs', () => {
  it('reproduces the digest test vector', () => {
    expect(sign(`${PATH}?exp=1631289275`, KEY)).toBe(SIG);
  });
  it('verifies the vector before expiry and refuses it after', () => {
    expect(verify([PATH], `exp=1631289275&sig=${SIG}`, [KEY], 1631289000)).toBe('ok');
    expect(verify([PATH], `exp=1631289275&sig=${SIG}`, [KEY], 1631289276)).toBe('expired');
  });
  it('accepts any key of the account and any listed path form', () => {
    expect(
      verify([`/cdn-cgi/imagedelivery${PATH}`, PATH], `exp=1631289275&sig=${SIG}`, ['other', KEY], 0),
    ).toBe('ok');
  });
  it('refuses tampering', () => {
    expect(verify([PATH], `exp=1631289276&sig=${SIG}`, [KEY], 0)).toBe('bad-signature');
    expect(verify([PATH.replace('mobile', 'public')], `exp=1631289275&sig=${SIG}`, [KEY], 0)).toBe(
      'bad-signature',
    );
    expect(verify([PATH], `exp=1631289275&sig=${SIG.replace('7', '8')}`, [KEY], 0)).toBe('bad-signature');
    expect(verify([PATH], `exp=1631289275&sig=${SIG.toUpperCase()}`, [KEY], 0)).toBe('bad-signature');
    expect(verify([PATH], `exp=1631289275`, [KEY], 0)).toBe('missing');
    expect(verify([PATH], `exp=abc&sig=${SIG}`, [KEY], 0)).toBe('bad-expiry');
    expect(verify([PATH], `exp=1631289275&sig=${SIG}`, [], 0)).toBe('bad-signature');
  });
});
