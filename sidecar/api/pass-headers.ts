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

/** Control characters but tab (RFC 9110 section 5.5 allows tab, visible characters, obs-text). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** The controls that would split or cut a header, named as such in the refusal. */
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

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
    if (CONTROL.test(value)) {
      const what = LINE_BREAK_OR_NUL.test(value) ? 'a line break or NUL' : 'a control character';
      throw new GatewayError(
        'GW_ERR_REQ_BAD_HEADER',
        `Header '${name}' contains ${what} and cannot be forwarded.`,
        { param: name },
      );
    }
    // Both fronts hand a value over one character per byte, as it came: it leaves so.
    (out ??= []).push([upstreamName, value]);
  }
  return out ?? [];
}
