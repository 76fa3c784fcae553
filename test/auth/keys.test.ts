import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ApiKeySchema } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { hashKey, KeyRing } from '../../sidecar/auth/keys.js';

const KEY = 'sk-mg-checkout-0001';
const OTHER = 'sk-mg-search-0002';

function ring(): KeyRing {
  return new KeyRing([
    create(ApiKeySchema, {
      id: 'checkout-svc',
      sha256: hashKey(KEY),
      project: 'checkout',
      team: 'payments',
    }),
    create(ApiKeySchema, { id: 'search-svc', sha256: hashKey(OTHER), project: 'search' }),
  ]);
}

describe('hashKey', () => {
  it('returns the lowercase hex SHA-256 of the key', () => {
    // FIPS 180-2 test vector for "abc".
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashKey('sk-mg-example')).toBe(
      '15f84abeddce69fe291070020c6eafb08baaf54692a11ea9ffbb3049d91af67c',
    );
  });
});

describe('KeyRing', () => {
  it('counts its keys', () => {
    expect(ring().size).toBe(2);
    expect(new KeyRing([]).size).toBe(0);
  });

  it('identifies the caller from a bearer key', () => {
    expect(ring().identify(`Bearer ${KEY}`)).toEqual({
      keyId: 'checkout-svc',
      project: 'checkout',
      team: 'payments',
    });
    expect(ring().identify(`Bearer ${OTHER}`)).toEqual({
      keyId: 'search-svc',
      project: 'search',
      team: '',
    });
  });

  it('accepts any case of the scheme and surrounding whitespace', () => {
    const keys = ring();
    for (const header of [`bearer ${KEY}`, `BEARER ${KEY}`, `  Bearer \t ${KEY}  `]) {
      expect(keys.identify(header)).toMatchObject({ keyId: 'checkout-svc' });
    }
  });

  it('returns the same identity object on every call', () => {
    const keys = ring();
    expect(keys.identify(`Bearer ${KEY}`)).toBe(keys.identify(`Bearer ${KEY}`));
  });

  it.each([undefined, '', '   ', 'Bearer', 'Bearer    '])('says missing for %j', (header) => {
    expect(ring().identify(header)).toBe('missing');
  });

  it.each([
    ['an unknown key', 'Bearer sk-mg-unknown'],
    ['another scheme', `Basic ${KEY}`],
    ['a key without a scheme', KEY],
    ['a key with extra text', `Bearer ${KEY} extra`],
    ['a near miss', `Bearer ${KEY.slice(0, -1)}`],
  ])('says invalid for %s', (_, header) => {
    expect(ring().identify(header)).toBe('invalid');
  });

  it('accepts no key at all when it holds none', () => {
    expect(new KeyRing([]).identify(`Bearer ${KEY}`)).toBe('invalid');
  });

  it('refuses to hold an entry whose sha256 is not a hex digest', () => {
    const bad = create(ApiKeySchema, { id: 'raw', sha256: KEY });
    expect(() => new KeyRing([bad])).toThrow('API key "raw" has no valid sha256');
  });
});
