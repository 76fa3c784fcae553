// Anthropic `system` and `messages` (https://docs.anthropic.com/en/api/messages) as OpenAI chat
// messages. Anthropic carries tool results as blocks inside a user turn; OpenAI as `tool`
// messages right after the assistant turn that called them, so a user turn becomes its tool
// messages first, then a user message with whatever else it held.

import type { JsonObject } from '../../providers/adapter.js';
import { invalid, isObject, missing, text, unsupported } from './check.js';

export function systemToOpenAI(system: unknown): JsonObject | undefined {
  if (system === undefined || system === null || system === '') return undefined;
  if (typeof system === 'string') return { role: 'system', content: system };
  if (!Array.isArray(system)) {
    throw invalid('system', "'system' must be a string or an array of text blocks.");
  }
  const parts = system.map((block: unknown, i) => {
    const at = `system[${i}]`;
    if (!isObject(block) || block.type !== 'text') {
      throw invalid(`${at}.type`, `'${at}.type' must be text.`);
    }
    return { type: 'text', text: text(block, 'text', at) };
  });
  if (parts.length === 0) return undefined;
  return { role: 'system', content: parts.length === 1 ? parts[0].text : parts };
}

export function messagesToOpenAI(messages: unknown): JsonObject[] {
  if (messages === undefined || messages === null) throw missing('messages');
  if (!Array.isArray(messages)) throw invalid('messages', "'messages' must be an array.");
  if (messages.length === 0) throw invalid('messages', "'messages' must not be empty.");

  const out: JsonObject[] = [];
  messages.forEach((m: unknown, i) => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw invalid(at, `'${at}' must be an object.`);
    if (m.content === undefined || m.content === null) throw missing(`${at}.content`);
    if (m.role === 'user') userTurn(m.content, at, out);
    else if (m.role === 'assistant') out.push(assistantTurn(m.content, at));
    else {
      throw invalid(
        `${at}.role`,
        `'${at}.role' must be user or assistant (system text goes in the top-level 'system').`,
      );
    }
  });
  return out;
}

function blocksOf(content: unknown, at: string, mayBeEmpty: boolean): unknown[] | string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) {
    throw invalid(`${at}.content`, `'${at}.content' must be a string or an array of blocks.`);
  }
  if (content.length === 0 && !mayBeEmpty) {
    throw invalid(`${at}.content`, `'${at}.content' must not be empty.`);
  }
  return content;
}

function userTurn(content: unknown, at: string, out: JsonObject[]): void {
  const blocks = blocksOf(content, at, false);
  if (typeof blocks === 'string') {
    out.push({ role: 'user', content: blocks });
    return;
  }

  const parts: JsonObject[] = [];
  blocks.forEach((block: unknown, j) => {
    const bat = `${at}.content[${j}]`;
    if (!isObject(block)) throw invalid(bat, `'${bat}' must be an object.`);
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: text(block, 'text', bat) });
        return;
      case 'image':
        parts.push(imagePart(block.source, `${bat}.source`));
        return;
      case 'document':
        parts.push(documentPart(block, bat));
        return;
      case 'tool_result':
        // OpenAI tool messages hold text only; a result's images join the user message.
        out.push(toolMessage(block, bat, parts));
        return;
      default:
        throw unsupportedBlock(block.type, bat, 'user');
    }
  });

  if (parts.length === 0) return;
  const only = parts.length === 1 && parts[0].type === 'text' ? parts[0].text : undefined;
  out.push({ role: 'user', content: only ?? parts });
}

function assistantTurn(content: unknown, at: string): JsonObject {
  const blocks = blocksOf(content, at, true);
  if (typeof blocks === 'string') return { role: 'assistant', content: blocks };

  const texts: JsonObject[] = [];
  const toolCalls: JsonObject[] = [];
  const thinking: JsonObject[] = [];
  blocks.forEach((block: unknown, j) => {
    const bat = `${at}.content[${j}]`;
    if (!isObject(block)) throw invalid(bat, `'${bat}' must be an object.`);
    switch (block.type) {
      case 'text':
        texts.push({ type: 'text', text: text(block, 'text', bat) });
        return;
      case 'tool_use':
        toolCalls.push(toolCall(block, bat));
        return;
      // Signed thinking goes back unmodified: Anthropic refuses a tool loop without it (G11).
      case 'thinking':
        thinking.push({
          type: 'thinking',
          thinking: text(block, 'thinking', bat),
          signature: block.signature ?? '',
        });
        return;
      case 'redacted_thinking':
        thinking.push({ type: 'redacted_thinking', data: text(block, 'data', bat) });
        return;
      default:
        throw unsupportedBlock(block.type, bat, 'assistant');
    }
  });

  const message: JsonObject = {
    role: 'assistant',
    content:
      texts.length === 0
        ? toolCalls.length > 0
          ? null
          : ''
        : texts.length === 1
          ? texts[0].text
          : texts,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thinking.length > 0) message.thinking_blocks = thinking;
  return message;
}

function toolCall(block: JsonObject, at: string): JsonObject {
  const input = block.input ?? {};
  if (!isObject(input)) throw invalid(`${at}.input`, `'${at}.input' must be an object.`);
  return {
    id: text(block, 'id', at),
    type: 'function',
    function: { name: text(block, 'name', at), arguments: JSON.stringify(input) },
  };
}

/** A tool_result block as a `tool` message; its images are appended to `images`. */
function toolMessage(block: JsonObject, at: string, images: JsonObject[]): JsonObject {
  const id = text(block, 'tool_use_id', at);
  const content = block.content ?? '';
  const texts: string[] = [];
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    content.forEach((part: unknown, k) => {
      const pat = `${at}.content[${k}]`;
      if (!isObject(part)) throw invalid(pat, `'${pat}' must be an object.`);
      if (part.type === 'text') texts.push(text(part, 'text', pat));
      else if (part.type === 'image') images.push(imagePart(part.source, `${pat}.source`));
      else throw unsupportedBlock(part.type, pat, 'tool_result');
    });
  } else {
    throw invalid(`${at}.content`, `'${at}.content' must be a string or an array of blocks.`);
  }

  // OpenAI has no failed-result flag; the model learns it from the text, as it would read it.
  if (block.is_error === true) texts[0] = texts.length > 0 ? `Error: ${texts[0]}` : 'Error';
  const body = texts.length <= 1 ? (texts[0] ?? '') : texts.map((t) => ({ type: 'text', text: t }));
  return { role: 'tool', tool_call_id: id, content: body };
}

function imagePart(source: unknown, at: string): JsonObject {
  if (!isObject(source)) throw missing(at);
  if (source.type === 'base64') {
    const mediaType = text(source, 'media_type', at);
    const data = text(source, 'data', at);
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } };
  }
  if (source.type === 'url') {
    return { type: 'image_url', image_url: { url: text(source, 'url', at) } };
  }
  throw unsupported(
    `${at}.type`,
    `'${at}.type' must be base64 or url: other sources (Files API) cannot reach every model.`,
  );
}

/** PDFs become OpenAI file parts; plain-text documents become text. */
function documentPart(block: JsonObject, at: string): JsonObject {
  const source = block.source;
  const sat = `${at}.source`;
  if (!isObject(source)) throw missing(sat);
  if (source.type === 'base64' && source.media_type === 'application/pdf') {
    const filename = typeof block.title === 'string' ? block.title : 'document.pdf';
    const fileData = `data:application/pdf;base64,${text(source, 'data', sat)}`;
    return { type: 'file', file: { filename, file_data: fileData } };
  }
  if (source.type === 'text') return { type: 'text', text: text(source, 'data', sat) };
  throw unsupported(
    `${sat}.type`,
    `'${sat}' must be a base64 PDF or text: other document sources cannot reach every model.`,
  );
}

type BlockPlace = 'user' | 'assistant' | 'tool_result';

const BLOCKS_IN: Readonly<Record<BlockPlace, readonly string[]>> = {
  user: ['text', 'image', 'document', 'tool_result'],
  assistant: ['text', 'tool_use', 'thinking', 'redacted_thinking'],
  tool_result: ['text', 'image'],
};

/** A block type known to the ingress but out of place is the client's mistake, not a gap. */
function unsupportedBlock(type: unknown, at: string, place: BlockPlace) {
  if (place !== 'tool_result' && typeof type === 'string') {
    const other = place === 'user' ? 'assistant' : 'user';
    if (BLOCKS_IN[other].includes(type)) {
      return invalid(
        `${at}.type`,
        `'${at}.type' ${type} belongs in ${other === 'user' ? 'a user' : 'an assistant'} turn.`,
      );
    }
  }
  return unsupported(
    `${at}.type`,
    `'${at}.type' ${JSON.stringify(type)} cannot be sent through this gateway's Anthropic ` +
      `ingress (supported here: ${BLOCKS_IN[place].join(', ')}).`,
  );
}
