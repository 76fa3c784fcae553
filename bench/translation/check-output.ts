// Before anything is timed, every cell must translate correctly: a decoder that gave up on
// the first event, or a parser that returned a failure, would look fast and mean nothing.

import type { StreamItem, Usage } from '../../sidecar/providers/adapter.js';
import { SseParser } from '../../sidecar/stream/sse-parser.js';
import type { Cell } from './measure.js';
import { ANSWER_TEXT, COMPLETION_TOKENS } from './provider-answers.js';

interface Chunk {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
}

/** Throws, naming the cell, unless it turns the upstream bytes into the expected answer. */
export async function checkCell(cell: Cell): Promise<void> {
  const { adapter, label } = cell.contender;
  const fail = (why: string): never => {
    throw new Error(`${label}, ${cell.mode}: ${why}`);
  };

  const request = await adapter.buildChat(cell.call);
  if (request.body.length < 1000) fail(`an upstream body of only ${request.body.length} bytes`);

  if (cell.mode === 'non-stream') {
    const parsed = adapter.parseChat(cell.upstream[0], cell.call);
    if (!('bytes' in parsed)) return fail(`parseChat failed: ${parsed.code} ${parsed.message}`);
    const completion = JSON.parse(Buffer.from(parsed.bytes).toString()) as {
      choices?: { message?: { content?: unknown } }[];
    };
    if (completion.choices?.[0]?.message?.content !== ANSWER_TEXT) fail('the text differs');
    return checkUsage(parsed.usage, fail);
  }

  const decoder = adapter.openStream(cell.call);
  const items: StreamItem[] = [];
  for (const read of cell.upstream) items.push(...decoder.push(read));
  const end = decoder.end();
  items.push(...end.items);
  if (end.cut) fail('the decoder says the stream was cut');

  let text = '';
  let finished = false;
  let usage: Usage | undefined;
  const addText = (data: string): void => {
    const content = (JSON.parse(data) as Chunk).choices?.[0]?.delta?.content;
    if (typeof content === 'string') text += content;
  };
  for (const item of items) {
    if (item.kind === 'error') fail(`an error item: ${item.failure.code} ${item.failure.message}`);
    if (item.kind === 'frames') {
      // Ordinary chunks forwarded whole, as SSE events: their text counts too.
      new SseParser({ onEvent: (ev) => addText(ev.data), midStream: true }).push(
        Buffer.from(item.frames),
      );
      continue;
    }
    if (item.kind !== 'chunk') continue;
    addText(item.data);
    if (item.finished?.includes(0)) finished = true;
    usage = item.usage ?? usage;
  }
  if (text !== ANSWER_TEXT) fail('the streamed text differs');
  if (!finished) fail('no chunk finished the choice');
  if (items.at(-1)?.kind !== 'done') fail('the stream did not end with done');
  checkUsage(usage, fail);
}

function checkUsage(usage: Usage | undefined, fail: (why: string) => never): void {
  if (usage?.completionTokens !== COMPLETION_TOKENS) {
    fail(`usage ${JSON.stringify(usage)}, expected ${COMPLETION_TOKENS} completion tokens`);
  }
}
