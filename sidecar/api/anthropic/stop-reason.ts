// An OpenAI finish_reason as Anthropic's stop_reason.

export interface Stop {
  stop_reason: string;
  stop_sequence: string | null;
}

export interface StopInput {
  finishReason: unknown;
  /** The choice refused (OpenAI `refusal` text). */
  refused: boolean;
  /**
   * What the upstream says it stopped at: vLLM and its kin put the matched string in the
   * choice's `stop_reason`. OpenAI itself does not say which sequence matched.
   */
  matched: unknown;
  stopSequences: readonly string[];
  /** The answer holds tool calls. */
  calledTools: boolean;
}

export function stopOf(input: StopInput): Stop {
  switch (input.finishReason) {
    case 'length':
      return { stop_reason: 'max_tokens', stop_sequence: null };
    case 'tool_calls':
    case 'function_call':
      return { stop_reason: 'tool_use', stop_sequence: null };
    case 'content_filter':
      return { stop_reason: 'refusal', stop_sequence: null };
  }
  if (input.refused) return { stop_reason: 'refusal', stop_sequence: null };
  // OpenAI ends a call forced by a named tool_choice with "stop", and Gemini's OpenAI endpoint
  // ends every call so; Anthropic clients run their tool loop only on tool_use.
  if (input.calledTools) return { stop_reason: 'tool_use', stop_sequence: null };
  const matched = input.matched;
  if (typeof matched === 'string' && input.stopSequences.includes(matched)) {
    return { stop_reason: 'stop_sequence', stop_sequence: matched };
  }
  return { stop_reason: 'end_turn', stop_sequence: null };
}
