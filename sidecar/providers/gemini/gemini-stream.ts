// Decodes a Gemini `streamGenerateContent?alt=sse` stream into OpenAI chunks. Each event
// is a whole GenerateContentResponse holding the next parts of each candidate; function
// calls arrive whole, numbered here across events per candidate. Gemini has no `[DONE]`:
// the stream is complete when it closes after every candidate gave a finishReason, and
// only then do the usage chunk and `done` follow, so a cut stream never looks finished.

import type { SseEvent } from '../../stream/sse-parser.js';
import { chatChunk, SseStreamDecoder, type ChunkHead } from '../sse-decoder.js';
import type { ChunkShape, JsonObject, StreamItem, UpstreamFailure, Usage } from '../adapter.js';
import { classifyStreamError, readGoogleError } from './classify-error.js';
import { finishReason, piecesOf, type GeminiCandidate, type Piece } from './gemini-parts.js';
import { readGeminiUsage, usageJson } from './gemini-usage.js';
import {
  badResponse,
  completionId,
  promptBlocked,
  type ResponseContext,
} from './gemini-to-openai.js';

interface ChoiceState {
  calls: number;
  finished: boolean;
}

export class GeminiStreamDecoder extends SseStreamDecoder {
  private readonly choices = new Map<number, ChoiceState>();
  private head: ChunkHead | undefined;
  private usage: Usage | undefined;
  private failed = false;

  constructor(
    private readonly ctx: ResponseContext,
    maxEventBytes?: number,
    /** Names the chunks when Gemini's modelVersion does not (the call's target). */
    private readonly model = '',
  ) {
    super(maxEventBytes);
  }

  override end(): { items: StreamItem[]; cut: boolean } {
    const { items, cut } = super.end();
    const complete =
      !cut &&
      !this.failed &&
      this.choices.size > 0 &&
      [...this.choices.values()].every((c) => c.finished);
    if (complete) {
      if (this.usage) {
        const data = chatChunk(this.head!, [], usageJson(this.usage));
        this.emit(data, 'usage', undefined, this.usage);
      }
      this.items.push({ kind: 'done' });
    }
    return { items: [...items, ...this.take()], cut };
  }

  protected onEvent(ev: SseEvent): void {
    if (this.failed) return;
    let res: JsonObject;
    try {
      res = JSON.parse(ev.data) as JsonObject;
    } catch {
      return this.fail(badResponse(this.ctx, 'a stream event that is not JSON'));
    }
    if (typeof res !== 'object' || res === null || Array.isArray(res)) {
      return this.fail(badResponse(this.ctx, 'a stream event that is not an object'));
    }
    if (res.error !== undefined) {
      return this.fail(classifyStreamError(readGoogleError(ev.data), this.ctx));
    }
    const blocked = promptBlocked(res, this.ctx);
    if (blocked) return this.fail(blocked);

    this.head ??= {
      id: completionId(res),
      created: this.ctx.nowSeconds(),
      model: typeof res.modelVersion === 'string' ? res.modelVersion : this.model,
    };
    const candidates = Array.isArray(res.candidates) ? (res.candidates as GeminiCandidate[]) : [];
    candidates.forEach((candidate, position) => this.onCandidate(candidate, position));
    // Every event may carry the running usage; the last one is the total.
    this.usage = readGeminiUsage(res.usageMetadata) ?? this.usage;
  }

  private onCandidate(candidate: GeminiCandidate, position: number): void {
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    let state = this.choices.get(index);
    if (state === undefined) {
      state = { calls: 0, finished: false };
      this.choices.set(index, state);
      this.choice(index, { role: 'assistant', content: '' }, 'lifecycle');
    }
    if (state.finished) return;

    const s = state;
    for (const piece of piecesOf(candidate, () => s.calls++)) {
      this.choice(index, delta(piece), 'content');
    }
    const finish = finishReason(candidate.finishReason, s.calls > 0);
    if (finish !== null) {
      s.finished = true;
      this.choice(index, {}, 'lifecycle', finish);
    }
  }

  private choice(
    index: number,
    delta: JsonObject,
    shape: ChunkShape,
    finish: string | null = null,
  ): void {
    const choice = { index, delta, logprobs: null, finish_reason: finish };
    this.emit(chatChunk(this.head!, [choice]), shape, finish ? [index] : undefined);
  }

  private emit(data: JsonObject, shape: ChunkShape, finished?: number[], usage?: Usage): void {
    this.items.push({ kind: 'chunk', data: JSON.stringify(data), shape, finished, usage });
  }

  private fail(failure: UpstreamFailure): void {
    this.failed = true;
    this.items.push({ kind: 'error', failure });
  }
}

function delta(piece: Piece): JsonObject {
  switch (piece.kind) {
    case 'text':
      return { content: piece.text };
    case 'reasoning':
      return { reasoning_content: piece.text };
    case 'call':
      return { tool_calls: [piece.call] };
  }
}
