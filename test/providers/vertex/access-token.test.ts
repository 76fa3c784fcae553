import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../sidecar/errors.js';
import { AccessTokenSource } from '../../../sidecar/providers/vertex/access-token.js';
import { loadServiceAccount } from '../../../sidecar/providers/vertex/service-account.js';
import { makeServiceAccount } from '../../support/mock-vertex.js';

const TOKEN_URI = 'http://127.0.0.1:9/token';

function setup(
  answer: (
    n: number,
  ) => { status: number; body: string } | Promise<{ status: number; body: string }>,
) {
  const file = makeServiceAccount(TOKEN_URI);
  const account = loadServiceAccount(file.path, 'vtx');
  let now = 1_700_000_000_000;
  const forms: string[] = [];
  const source = new AccessTokenSource({
    providerId: 'vtx',
    account,
    clock: () => now,
    post: async (url, form) => {
      expect(url).toBe(TOKEN_URI);
      forms.push(form);
      return answer(forms.length);
    },
  });
  return { file, source, forms, advance: (ms: number) => (now += ms), now: () => now };
}

const granted = (n: number, expiresIn = 3599) => ({
  status: 200,
  body: JSON.stringify({
    access_token: `ya29.token-${n}`,
    expires_in: expiresIn,
    token_type: 'Bearer',
  }),
});

describe('AccessTokenSource', () => {
  it('signs an RS256 assertion for the cloud-platform scope that the public key verifies', async () => {
    const { file, source, forms, now } = setup((n) => granted(n));
    expect(await source.token()).toBe('ya29.token-1');

    const form = new URLSearchParams(forms[0]);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [h, c, s] = form.get('assertion')!.split('.');
    expect(
      verify('RSA-SHA256', Buffer.from(`${h}.${c}`), file.publicKey, Buffer.from(s, 'base64url')),
    ).toBe(true);
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: file.privateKeyId,
    });
    const iat = Math.floor(now() / 1000);
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      iss: file.clientEmail,
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      aud: TOKEN_URI,
      iat,
      exp: iat + 3600,
    });
  });

  it('reuses the token until five minutes before it expires, then mints a new one', async () => {
    const { source, forms, advance } = setup((n) => granted(n));
    expect(await source.token()).toBe('ya29.token-1');
    advance(54 * 60_000);
    expect(await source.token()).toBe('ya29.token-1');
    advance(60_000);
    expect(await source.token()).toBe('ya29.token-2');
    expect(forms).toHaveLength(2);
  });

  it('coalesces concurrent refreshes into one exchange', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { source, forms } = setup(async (n) => {
      await gate;
      return granted(n);
    });
    const pending = Array.from({ length: 20 }, () => source.token());
    release();
    expect(new Set(await Promise.all(pending))).toEqual(new Set(['ya29.token-1']));
    expect(forms).toHaveLength(1);
  });

  it('mints afresh after invalidate() (Vertex answered 401)', async () => {
    const { source, forms } = setup((n) => granted(n));
    await source.token();
    source.invalidate();
    expect(await source.token()).toBe('ya29.token-2');
    expect(forms).toHaveLength(2);
  });

  it('fails with GW_ERR_UPSTREAM_AUTH naming the OAuth error, and tries again next time', async () => {
    const { source, forms } = setup((n) =>
      n === 1
        ? {
            status: 400,
            body: JSON.stringify({
              error: 'invalid_grant',
              error_description: 'Invalid JWT Signature.',
            }),
          }
        : granted(n),
    );
    const err = (await source.token().catch((e: unknown) => e)) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('GW_ERR_UPSTREAM_AUTH');
    expect(err.status).toBe(502);
    expect(err.message).toBe(
      'Provider "vtx": could not obtain a Google access token: the token endpoint refused the ' +
        'service account (invalid_grant).',
    );
    expect(await source.token()).toBe('ya29.token-2');
    expect(forms).toHaveLength(2);
  });

  it('uses a short-lived token for half its life rather than minting on every call', async () => {
    const { source, forms, advance } = setup((n) => granted(n, 60));
    await source.token();
    advance(29_000);
    expect(await source.token()).toBe('ya29.token-1');
    advance(2_000);
    expect(await source.token()).toBe('ya29.token-2');
    expect(forms).toHaveLength(2);
  });
});

describe('loadServiceAccount', () => {
  it('refuses a missing file, a wrong type and a key that is not RSA, naming no secret', () => {
    expect(() => loadServiceAccount('/nonexistent/key.json', 'vtx')).toThrow(
      'provider "vtx": service-account key file /nonexistent/key.json: cannot be read (ENOENT)',
    );
    const file = makeServiceAccount(TOKEN_URI);
    writeFileSync(file.path, JSON.stringify({ type: 'authorized_user', client_email: 'x' }));
    expect(() => loadServiceAccount(file.path, 'vtx')).toThrow('"type" must be "service_account"');

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    writeFileSync(
      file.path,
      JSON.stringify({ type: 'service_account', client_email: 'x@y', private_key: ec }),
    );
    expect(() => loadServiceAccount(file.path, 'vtx')).toThrow('"private_key" must be an RSA key');
    writeFileSync(
      file.path,
      JSON.stringify({ type: 'service_account', client_email: 'x@y', private_key: 'nope' }),
    );
    expect(() => loadServiceAccount(file.path, 'vtx')).toThrow(
      '"private_key" is not a PEM private key',
    );
  });

  it('defaults token_uri to Google', () => {
    const file = makeServiceAccount(TOKEN_URI);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(
      file.path,
      JSON.stringify({ type: 'service_account', client_email: 'x@y', private_key: pem }),
    );
    const account = loadServiceAccount(file.path, 'vtx');
    expect(account.tokenUri).toBe('https://oauth2.googleapis.com/token');
    expect(createPublicKey(account.privateKey).asymmetricKeyType).toBe('rsa');
  });
});

describe('the token exchange over HTTP', () => {
  /** A token endpoint on 127.0.0.1 port 0 answering every exchange with `answer`. */
  async function tokenServer(answer: (res: ServerResponse) => void) {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const account = loadServiceAccount(makeServiceAccount(uri).path, 'vtx');
    const source = new AccessTokenSource({ providerId: 'vtx', account, clock: Date.now });
    return { source, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('mints a token from a real token endpoint', async () => {
    const { source, close } = await tokenServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'ya29.real', expires_in: 3599 }));
    });
    try {
      expect(await source.token()).toBe('ya29.real');
    } finally {
      await close();
    }
  });

  // An endpoint that answered but whose body could not be read is not an unreachable one.
  const unread: [string, (res: ServerResponse) => void, string][] = [
    [
      'a body cut off',
      (res) => {
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': '100000' });
        res.write('{"error":"internal"', () => res.destroy());
      },
      'HTTP 500 and its body was cut off',
    ],
    [
      'a body too large to be a token',
      (res) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant', pad: 'x'.repeat(100_000) }));
      },
      'HTTP 400 with a body over 65536 bytes',
    ],
  ];
  it.each(unread)('names the status of an answer with %s', async (_case, answer, said) => {
    const { source, close } = await tokenServer(answer);
    try {
      const err = (await source.token().catch((e: unknown) => e)) as GatewayError;
      expect(err.code).toBe('GW_ERR_UPSTREAM_AUTH');
      expect(err.message).toBe(
        `Provider "vtx": could not obtain a Google access token: the token endpoint answered ${said}.`,
      );
    } finally {
      await close();
    }
  });
});
