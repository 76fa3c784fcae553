// Response header values sometimes carry text a client chose (a model name inside the
// x-modelgate-endpoint value). A CR or LF there would start a header of the client's own;
// anything outside printable ASCII is percent-encoded, so the value stays one header line.

const PRINTABLE = /^[\x20-\x7e]*$/;

export function safeHeaderValue(value: string): string {
  if (PRINTABLE.test(value)) return value;
  return value.replace(/[^\x20-\x7e]/gu, (ch) => encodeURIComponent(ch));
}
