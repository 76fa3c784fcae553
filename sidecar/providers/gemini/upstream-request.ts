// The request that leaves for Google: static headers, the credential (a fixed key, or a
// token minted per request on Vertex), then the client's forwarded headers. A client that
// forwards its own credential replaces the configured one and nothing is minted for it.

import type { ChatCall, UpstreamRequest } from '../adapter.js';

export interface RequestTarget {
  origin: string;
  /** Static headers: content type, policy headers, and the credential when it is static. */
  headers: Record<string, string>;
  /** Headers minted per request (a Vertex access token); absent for a static key. */
  credential?: () => Promise<Record<string, string>>;
  /** Credential header names that a client's own `x-pass-` credential replaces. */
  credentialHeaders: readonly string[];
}

export function upstreamRequest(
  target: RequestTarget,
  call: ChatCall,
  path: string,
  body: string,
): UpstreamRequest | Promise<UpstreamRequest> {
  const ownCredential = call.passHeaders.some(([name]) => target.credentialHeaders.includes(name));
  const request = (minted: Record<string, string>): UpstreamRequest => {
    // Not a spread: see revised() in ../failures.ts.
    const headers = Object.assign({}, target.headers, minted);
    if (ownCredential) for (const name of target.credentialHeaders) delete headers[name];
    for (const [name, value] of call.passHeaders) headers[name] = value;
    return { origin: target.origin, path, headers, body };
  };
  if (target.credential === undefined || ownCredential) return request({});
  return target.credential().then(request);
}
