import { randomUUID } from 'node:crypto';
import {
  ACCEPT_ENCODING,
  type AdapterFactory,
  type ChatCall,
  type UpstreamRequest,
} from '../adapter.js';
import { AMAZON_EVENT_STREAM } from '../stream-content-type.js';
import { toChatCompletion } from './bedrock-to-openai.js';
import { BedrockStreamDecoder } from './bedrock-stream.js';
import { classifyBedrockError, type ClassifyContext } from './classify-error.js';
import { regionFromHost, resolveAuth } from './credentials.js';
import { toConverseBody } from './openai-to-bedrock.js';
import { uriEncode } from './sigv4.js';

// AWS Bedrock Converse (POST /model/{modelId}/converse) and ConverseStream
// (/converse-stream). The policy's target is the raw model id: a foundation model, an
// inference profile id or an ARN; it is percent-encoded into the path here.

const USER_AGENT = 'modelgate/0.1';

/** Headers the signature or the credential owns; a client may not replace them. */
const OWNED = new Set(['host', 'content-type', 'x-amz-date', 'x-amz-security-token']);

export const createBedrockAdapter: AdapterFactory = (init) => {
  const url = new URL(init.baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '');
  const region = init.provider.region || regionFromHost(url.hostname) || 'us-east-1';
  const auth = resolveAuth(init, region);
  const ctx: ClassifyContext = { providerId: init.provider.id, secrets: auth.secrets };

  // TODO(issue-3): parseChat and openStream are not told which request they answer, and
  // Converse answers do not name the model, so `model` stays empty until the contract says.
  const meta = () => ({
    id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
    created: Math.floor(init.clock() / 1000),
    model: '',
  });

  return {
    buildChat(call: ChatCall): UpstreamRequest {
      const body = Buffer.from(JSON.stringify(toConverseBody(call.body)));
      const operation = call.stream ? 'converse-stream' : 'converse';
      const path = `${basePath}/model/${uriEncode(call.target)}/${operation}`;
      const headers: Record<string, string> = {
        accept: call.stream ? AMAZON_EVENT_STREAM : 'application/json',
        // Not signed: the signature covers host, content-type and the headers it adds.
        'accept-encoding': ACCEPT_ENCODING,
        'user-agent': USER_AGENT,
        ...init.provider.headers,
      };

      // A caller's own credential (x-pass-authorization, e.g. its Bedrock API key) replaces
      // the configured one; nothing else may touch what the signature covers.
      let callerAuth: string | undefined;
      for (const [name, value] of call.passHeaders) {
        if (name === 'authorization') callerAuth = value;
        else if (!OWNED.has(name)) headers[name] = value;
      }

      headers['content-type'] = 'application/json';
      if (callerAuth !== undefined) {
        headers.authorization = callerAuth;
      } else if (auth.kind === 'bearer') {
        headers.authorization = `Bearer ${auth.token}`;
      } else {
        const signed = auth.signer.sign(
          {
            method: 'POST',
            host: url.host,
            path,
            headers: { 'content-type': 'application/json' },
            body,
          },
          init.clock(),
        );
        Object.assign(headers, { host: url.host }, signed.headers);
      }
      return { origin: url.origin, path, headers, body };
    },

    parseChat: (body) => toChatCompletion(body, meta(), init.provider.id),

    openStream: () =>
      new BedrockStreamDecoder(
        Object.assign(meta(), { ctx, maxEventBytes: init.maxStreamEventBytes }),
      ),

    classifyError: (status, headers, body) => classifyBedrockError(status, headers, body, ctx),

    streamContentType: AMAZON_EVENT_STREAM,

    secrets: auth.secrets,
  };
};
