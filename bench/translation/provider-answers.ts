// What each provider answers to the client request, non-streamed, in its own wire format
// and field order: the same 64-token text and the same token counts everywhere, so only the
// envelope differs. Shapes follow the providers' API references and test/support/mock-*.ts.

export type WireFormat = 'openai' | 'anthropic' | 'gemini' | 'bedrock' | 'cohere';

export const PROMPT_TOKENS = 498;

const ANSWER =
  'Thanks, Maria. I found order NW-48213-K: the tent and the poles were packed together, ' +
  'and the carrier has not scanned the parcel yet, which usually means it leaves the ' +
  'warehouse within two working days.\nShall I split the shipment so the tent goes out ' +
  'today by express, at no extra cost? It would arrive by Friday, before the 14th. The poles ' +
  'can follow later.';

/** The answer as a model streams it: 64 pieces, each a word with the space before it. */
export const PIECES: readonly string[] = splitInto(ANSWER, 64);
export const COMPLETION_TOKENS = PIECES.length;
export const ANSWER_TEXT = PIECES.join('');

function splitInto(text: string, count: number): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  if (words.length !== count) throw new Error(`the answer has ${words.length} words, not ${count}`);
  return words;
}

const TOTAL_TOKENS = PROMPT_TOKENS + COMPLETION_TOKENS;
// Fixed ids and times: the bodies are built once and parsed many times.
export const CREATED_S = 1_764_806_400;
export const IDS = {
  openai: 'chatcmpl-CJq8x2mNw4Yb7T1pLk9sQeR3vZfHa',
  anthropic: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  gemini: 'L9kxaM3dIYSdz7IPvLiF2Qs',
  cohere: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
};
export const MODELS = {
  openai: 'gpt-4o-mini-2024-07-18',
  anthropic: 'claude-sonnet-4-5-20250929',
  gemini: 'gemini-2.5-flash',
};

const openai = () => ({
  id: IDS.openai,
  object: 'chat.completion',
  created: CREATED_S,
  model: MODELS.openai,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: ANSWER_TEXT, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: PROMPT_TOKENS,
    completion_tokens: COMPLETION_TOKENS,
    total_tokens: TOTAL_TOKENS,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_560af6e559',
});

const anthropic = () => ({
  id: IDS.anthropic,
  type: 'message',
  role: 'assistant',
  model: MODELS.anthropic,
  content: [{ type: 'text', text: ANSWER_TEXT }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: {
    input_tokens: PROMPT_TOKENS,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: COMPLETION_TOKENS,
    service_tier: 'standard',
  },
});

export const geminiUsage = (candidates?: number) => ({
  promptTokenCount: PROMPT_TOKENS,
  ...(candidates === undefined ? {} : { candidatesTokenCount: candidates }),
  totalTokenCount: PROMPT_TOKENS + (candidates ?? 0),
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: PROMPT_TOKENS }],
});

const gemini = () => ({
  candidates: [
    {
      content: { parts: [{ text: ANSWER_TEXT }], role: 'model' },
      finishReason: 'STOP',
      avgLogprobs: -0.21874237060546875,
    },
  ],
  usageMetadata: geminiUsage(COMPLETION_TOKENS),
  modelVersion: MODELS.gemini,
  responseId: IDS.gemini,
});

export const bedrockUsage = () => ({
  inputTokens: PROMPT_TOKENS,
  outputTokens: COMPLETION_TOKENS,
  totalTokens: TOTAL_TOKENS,
});

const bedrock = () => ({
  output: { message: { role: 'assistant', content: [{ text: ANSWER_TEXT }] } },
  stopReason: 'end_turn',
  usage: bedrockUsage(),
  metrics: { latencyMs: 1184 },
});

export const cohereUsage = () => ({
  billed_units: { input_tokens: PROMPT_TOKENS, output_tokens: COMPLETION_TOKENS },
  tokens: { input_tokens: PROMPT_TOKENS + 9, output_tokens: COMPLETION_TOKENS },
});

const cohere = () => ({
  id: IDS.cohere,
  message: { role: 'assistant', content: [{ type: 'text', text: ANSWER_TEXT }] },
  finish_reason: 'COMPLETE',
  usage: cohereUsage(),
});

const BODIES: Record<WireFormat, () => object> = { openai, anthropic, gemini, bedrock, cohere };

/** The response body exactly as it would come off the wire. */
export function answerBody(format: WireFormat): Buffer {
  return Buffer.from(JSON.stringify(BODIES[format]()));
}
