// Response header values sometimes carry text a client chose (a model name inside the
// x-modelgate-endpoint value). A CR or LF there would start a header of the client's own;
// anything outside printable ASCII is percent-encoded as UTF-8, so the value stays one
// header line. It never throws: a lone surrogate (which encodeURIComponent refuses) is
// encoded as U+FFFD, the way a UTF-8 encoder writes it.

const PRINTABLE = /^[\x20-\x7e]*$/;

export function safeHeaderValue(value: string): string {
  if (PRINTABLE.test(value)) return value;
  return value.replace(/[^\x20-\x7e]/gu, percentUtf8);
}

function percentUtf8(ch: string): string {
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) {
    out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
