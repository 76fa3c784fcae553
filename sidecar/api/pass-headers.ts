import { GatewayError } from '../errors.js';

const PREFIX = 'x-pass-';

/**
 * Hop-by-hop and framing headers describe one connection and are never relayed (RFC 9110
 * §7.6.1); nor are the headers that say how the sidecar itself must read the answer.
 */
const NEVER = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'cookie',
  // Expect: 100-continue is a handshake over one connection, and the body is read already;
  // undici refuses the header outright, which read as the provider being unreachable.
  'expect',
  // The sidecar reads every answer as JSON or SSE and decodes no content coding: it asks
  // for identity itself (ACCEPT_ENCODING), and a client may not ask for gzip instead.
  'accept-encoding',
]);

const UNSAFE_VALUE = /[\r\n\0]/;
/** Other controls (RFC 9110 section 5.5 allows tab, visible characters and obs-text). */
const CONTROL = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/**
 * Headers a client sends on purpose to the provider, as `x-pass-<name>`; nothing else a
 * client sends goes upstream (its own Authorization is the sidecar's key and stays here).
 */
export function readPassHeaders(headers: ReadonlyMap<string, string>): [string, string][] {
  let out: [string, string][] | undefined;
  for (const [name, value] of headers) {
    if (!name.startsWith(PREFIX)) continue;
    const upstreamName = name.slice(PREFIX.length);
    if (upstreamName.length === 0 || NEVER.has(upstreamName)) continue;
    if (UNSAFE_VALUE.test(value)) {
      throw new GatewayError(
        'GW_ERR_REQ_BAD_HEADER',
        `Header '${name}' contains a line break or NUL and cannot be forwarded.`,
        { param: name },
      );
    }
    if (CONTROL.test(value)) {
      throw new GatewayError(
        'GW_ERR_REQ_BAD_HEADER',
        `Header '${name}' contains a control character and cannot be forwarded.`,
        { param: name },
      );
    }
    // Both fronts hand a value over one character per byte, as it came: it leaves so.
    (out ??= []).push([upstreamName, value]);
  }
  return out ?? [];
}
