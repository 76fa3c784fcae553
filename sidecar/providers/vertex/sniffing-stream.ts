// A stream decoder for a provider that speaks two stream formats (Vertex AI: Gemini SSE and
// Anthropic SSE). The first bytes say which: Anthropic streams open with an `event:` line or
// an event whose JSON starts with "type"; Gemini events start with a response field. Bytes
// are held only until that is known (a few dozen), then handed to the right decoder.

import type { StreamDecoder, StreamItem } from '../adapter.js';

/** Past this many bytes without a verdict, the stream is taken for Gemini's. */
const MAX_SNIFF_BYTES = 4096;

type Verdict = 'gemini' | 'claude';

export class SniffingStreamDecoder implements StreamDecoder {
  private decoder: StreamDecoder | undefined;
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(
    private readonly gemini: () => StreamDecoder,
    private readonly claude: () => StreamDecoder,
  ) {}

  push(bytes: Uint8Array): StreamItem[] {
    if (this.decoder !== undefined) return this.decoder.push(bytes);
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    const head = Buffer.concat(this.held).toString('latin1');
    const verdict = sniff(head) ?? (this.heldBytes > MAX_SNIFF_BYTES ? 'gemini' : undefined);
    return verdict === undefined ? [] : this.start(verdict);
  }

  end(): { items: StreamItem[]; cut: boolean } {
    const items = this.decoder === undefined ? this.start('gemini') : [];
    const end = this.decoder!.end();
    return { items: [...items, ...end.items], cut: end.cut };
  }

  private start(verdict: Verdict): StreamItem[] {
    this.decoder = verdict === 'claude' ? this.claude() : this.gemini();
    const held = this.held;
    this.held = [];
    return held.flatMap((bytes) => this.decoder!.push(bytes));
  }
}

const LEADING = /^(?:\uFEFF|\xEF\xBB\xBF)?(?:\s|:[^\r\n]*(?:\r\n|\r|\n))*/;

/** Which format `head` (the stream's first bytes) is in, once that can be told. */
export function sniff(head: string): Verdict | undefined {
  const rest = head.replace(LEADING, '');
  if (rest.startsWith('event:')) return 'claude';
  if (!rest.startsWith('data:')) return rest.length > 16 ? 'gemini' : undefined;
  const key = /^data:\s*\{\s*"([^"]*)"/.exec(rest);
  if (key !== null) return key[1] === 'type' || key[1] === 'id' ? 'claude' : 'gemini';
  return /^data:\s*[^\s{]/.test(rest) ? 'gemini' : undefined;
}
