import { GatewayError } from '../errors.js';
import { sendJson } from '../http/respond.js';
import type { HttpReply, HttpRequest } from '../http/types.js';
import type { ModelTable } from '../routing/model-table.js';
import { checkModelName } from './chat-request.js';
import type { RequestContext } from './context.js';

// OpenAI's Model object wants a creation time; ours is when this sidecar loaded its policy.
const LOADED_AT = Math.floor(Date.now() / 1000);

function modelObject(id: string, ownedBy: string) {
  return { id, object: 'model', created: LOADED_AT, owned_by: ownedBy };
}

export function listModels(reply: HttpReply, ctx: RequestContext, models: ModelTable): void {
  const data = models.list().map((m) => modelObject(m.id, m.ownedBy));
  sendJson(reply, ctx, 200, JSON.stringify({ object: 'list', data }));
}

/** GET /v1/models/{id}: any name the table routes, listed or matched by a pattern. */
export function getModel(
  req: HttpRequest,
  reply: HttpReply,
  ctx: RequestContext,
  models: ModelTable,
): void {
  const id = modelId(req.path.slice(modelIdStart(req.path)));
  const route = models.resolve(id);
  if (route === undefined) {
    throw new GatewayError('GW_ERR_MODEL_NOT_FOUND', `The model '${id}' does not exist here.`, {
      param: 'model',
    });
  }
  sendJson(
    reply,
    ctx,
    200,
    JSON.stringify(modelObject(id, route.chain[0]?.provider.id ?? 'modelgate')),
  );
}

/** Where the id starts in `/v1/models/{id}` or `/models/{id}`; the path's length if neither. */
export function modelIdStart(path: string): number {
  if (path.startsWith('/v1/models/')) return '/v1/models/'.length;
  if (path.startsWith('/models/')) return '/models/'.length;
  return path.length;
}

/** The id in the path, percent-decoded; a 400 when it does not decode to a sane name. */
function modelId(encoded: string): string {
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_FIELD',
      'The model id in the path is not valid percent-encoded UTF-8.',
      { param: 'model' },
    );
  }
  checkModelName(id);
  return id;
}
