import type { AdapterFactory } from '../adapter.js';

// TODO(issue-3): the Anthropic adapter is being written; until then a policy naming this
// protocol fails at startup with this message rather than at the first request.
export const createAnthropicAdapter: AdapterFactory = (init) => {
  throw new Error(`provider "${init.provider.id}": the anthropic protocol is not implemented yet`);
};
