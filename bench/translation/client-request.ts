// The client's request every adapter translates: one OpenAI chat body of about 2 KB, a system
// message, three turns and one tool, the shape of a support-bot call. The same bytes go to
// every protocol, so the figures differ only by what each adapter does with them.

import { scanJsonBody } from '../../sidecar/json-body.js';
import type { ChatCall, JsonObject } from '../../sidecar/providers/adapter.js';

/** The public model name the client asks for; each provider gets its own target. */
export const PUBLIC_MODEL = 'chat-default';

const SYSTEM =
  'You are the order-support assistant of Northwind Outfitters, an online shop for hiking ' +
  'and camping gear. Answer in the customer’s language, in at most four short sentences. ' +
  'Never promise a refund or a delivery date yourself: look the order up first and quote ' +
  'what the order system says. If the customer asks about something other than their ' +
  'orders, returns or our products, say politely that you can only help with those.';

const TURNS = [
  {
    role: 'user',
    content:
      'Hi! I ordered a two-person tent and a pair of trekking poles about ten days ago and ' +
      'the tracking page has said "label created" ever since. The order number is ' +
      'NW-48213-K. I leave for a trip on the 14th, so I need to know whether it will arrive ' +
      'in time or whether I should buy the tent somewhere else.',
  },
  {
    role: 'assistant',
    content:
      'Sorry about the wait, that is frustrating when a trip is coming up. Could you confirm ' +
      'the email address the order was placed with? Then I can check its status and tell ' +
      'you exactly where the parcel is.',
  },
  {
    role: 'user',
    content:
      'Sure, it is maria.lindqvist@example.org. Also, if the tent ships separately from the ' +
      'poles, I only really need the tent before the 14th; the poles can come later.',
  },
];

const LOOKUP_ORDER = {
  type: 'function',
  function: {
    name: 'lookup_order',
    description:
      'Looks an order up in the order system and returns its items, their shipment status ' +
      'and the carrier tracking numbers.',
    parameters: {
      type: 'object',
      properties: {
        order_id: { type: 'string', description: 'The order number, e.g. NW-12345-A.' },
        email: { type: 'string', description: 'The email address the order was placed with.' },
        fields: {
          type: 'array',
          description: 'Which parts of the order to return; all of them when absent.',
          items: { type: 'string', enum: ['items', 'shipments', 'payment', 'returns'] },
        },
      },
      required: ['order_id', 'email'],
    },
  },
};

function clientBody(stream: boolean): JsonObject {
  return {
    model: PUBLIC_MODEL,
    messages: [{ role: 'system', content: SYSTEM }, ...TURNS],
    tools: [LOOKUP_ORDER],
    tool_choice: 'auto',
    temperature: 0.3,
    max_tokens: 512,
    // Most clients do not ask for usage; the sidecar asks upstream for it anyway.
    ...(stream ? { stream: true } : {}),
  };
}

/** The call a chat handler would give the adapter for `target`, parsed as the sidecar does. */
export function chatCall(target: string, stream: boolean): ChatCall {
  const raw = Buffer.from(JSON.stringify(clientBody(stream)));
  return {
    raw,
    body: JSON.parse(raw.toString()) as JsonObject,
    // parseChatRequest scans the bytes before any adapter runs; the adapter only reuses it.
    modelKeyAt: scanJsonBody(raw),
    model: PUBLIC_MODEL,
    target,
    stream,
    passHeaders: [],
  };
}
