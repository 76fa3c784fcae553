// Deeply nested JSON is cheap to send and expensive to walk: the translators recurse, and
// a few thousand levels overflow the stack. The depth is measured on the raw bytes, before
// anything recursive sees the body.

import { GatewayError } from '../errors.js';

/** No real request nests this deep; tool schemas stay well under it. */
export const MAX_JSON_DEPTH = 128;

export function assertJsonDepth(raw: Buffer, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        throw new GatewayError(
          'GW_ERR_REQ_INVALID_FIELD',
          `The request body nests deeper than ${max} levels.`,
        );
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
