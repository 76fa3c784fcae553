// Converse stopReason to OpenAI finish_reason (MessageStopEvent reference for the values).

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

/** Unknown or malformed-output reasons end the turn as a plain stop. */
export function finishReason(stopReason: unknown): string {
  return (typeof stopReason === 'string' && FINISH[stopReason]) || 'stop';
}
