import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { GatewayError } from '../errors.js';

/** Who is calling: the key's id and whom its cost is charged to. */
export interface Identity {
  readonly keyId: string;
  readonly project: string;
  readonly team: string;
}

/** The hex SHA-256 of an API key: the only form in which keys are stored or configured. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

interface Entry {
  readonly digest: Buffer;
  readonly identity: Identity;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The API keys this sidecar accepts, held only as hashes. Whether an empty ring means "no
 * authentication" is the caller's decision; identify() itself never accepts an unknown key.
 */
export class KeyRing {
  readonly #byHash = new Map<string, Entry>();

  constructor(apiKeys: readonly ApiKey[]) {
    for (const key of apiKeys) {
      // The config validator reports this with a path; reaching here means it was skipped.
      if (!SHA256_HEX.test(key.sha256)) {
        throw new Error(`API key "${key.id}" has no valid sha256; validate the policy first`);
      }
      const identity = Object.freeze({ keyId: key.id, project: key.project, team: key.team });
      this.#byHash.set(key.sha256, { digest: Buffer.from(key.sha256, 'hex'), identity });
    }
  }

  get size(): number {
    return this.#byHash.size;
  }

  /** Maps an Authorization header to the caller, or says why it cannot. */
  identify(authorizationHeader: string | undefined): Identity | 'missing' | 'invalid' {
    const value = authorizationHeader?.trim() ?? '';
    if (value === '') return 'missing';

    const gap = value.search(/\s/);
    const scheme = gap === -1 ? value : value.slice(0, gap);
    if (scheme.toLowerCase() !== 'bearer') return 'invalid';
    const token = gap === -1 ? '' : value.slice(gap).trim();
    if (token === '') return 'missing';

    // The map is keyed by hash, so its lookup time reveals nothing about the key itself; the
    // constant-time compare guards the match against any future change of that lookup.
    const digest = createHash('sha256').update(token, 'utf8').digest();
    const entry = this.#byHash.get(digest.toString('hex'));
    if (entry === undefined || !timingSafeEqual(entry.digest, digest)) return 'invalid';
    return entry.identity;
  }
}

/**
 * The caller behind an Authorization header value, for a route that needs one: undefined
 * when the ring is empty (loopback-only mode, enforced at startup), the 401s otherwise.
 * `missingHint` tells the client how this route takes its key.
 */
export function requireIdentity(
  keys: KeyRing,
  authorization: string | undefined,
  missingHint: string,
): Identity | undefined {
  if (keys.size === 0) return undefined;
  const result = keys.identify(authorization);
  if (result === 'missing') throw new GatewayError('GW_ERR_AUTH_MISSING_KEY', missingHint);
  if (result === 'invalid') {
    throw new GatewayError('GW_ERR_AUTH_INVALID_KEY', 'The API key is not valid for this sidecar.');
  }
  return result;
}
