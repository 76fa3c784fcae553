// Rules for failover chains (classes) and routing settings; the rest of the policy's rules
// are in validate.ts.

import type { ModelClass, Provider, Routing } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { SLICE_COUNT } from '../health/health-engine.js';
import { modelNameProblem } from '../model-name.js';
import { MAX_ATTEMPTS } from '../routing/model-table.js';

type Report = (path: string, reason: string) => void;

const MAX_CHAIN = 16;
/** What failover_on_status may list: HTTP error statuses. */
export const FAILOVER_STATUSES = [400, 599] as const;

export function checkClasses(
  classes: readonly ModelClass[],
  providers: readonly Provider[],
  report: Report,
): void {
  const ids = new Set(providers.map((p) => p.id));
  const seen = new Map<string, number>();
  classes.forEach((c, i) => {
    const at = `classes[${i}]`;
    // A class name is routed like a model name and quoted in GW_ERR_ROUTE_ALL_DOWN messages.
    const nameProblem = modelNameProblem(c.name);
    if (c.name === '') report(`${at}.name`, 'required');
    else if (nameProblem !== undefined) report(`${at}.name`, nameProblem);
    else if (seen.has(c.name)) {
      report(`${at}.name`, `duplicate name "${c.name}" (also classes[${seen.get(c.name)}])`);
    } else seen.set(c.name, i);

    if (c.chain.length === 0) report(`${at}.chain`, 'must list at least one endpoint');
    if (c.chain.length > MAX_CHAIN) {
      report(`${at}.chain`, `at most ${MAX_CHAIN} endpoints, got ${c.chain.length}`);
    }
    const endpoints = new Set<string>();
    c.chain.forEach((e, j) => {
      const ep = `${at}.chain[${j}]`;
      if (e.provider === '') report(`${ep}.provider`, 'required');
      else if (!ids.has(e.provider)) {
        report(
          `${ep}.provider`,
          `no provider with id "${e.provider}" (known: ${[...ids].join(', ')})`,
        );
      }
      // As models[].target: half of the endpoint id that logs, metrics and headers carry.
      const targetProblem = modelNameProblem(e.target);
      if (e.target === '') report(`${ep}.target`, 'required: the model name the provider knows');
      else if (targetProblem !== undefined) report(`${ep}.target`, targetProblem);
      else if (e.target.includes('*')) report(`${ep}.target`, 'a chain names exact models, no "*"');
      const key = `${e.provider}/${e.target}`;
      if (endpoints.has(key)) report(ep, `"${key}" appears twice in the chain`);
      endpoints.add(key);
    });
    if (c.maxAttempts > MAX_ATTEMPTS) {
      report(`${at}.max_attempts`, `at most ${MAX_ATTEMPTS}, got ${c.maxAttempts}`);
    }
    c.failoverOnStatus.forEach((status, j) => {
      const [lowest, highest] = FAILOVER_STATUSES;
      if (status < lowest || status > highest) {
        report(
          `${at}.failover_on_status[${j}]`,
          `must be an HTTP error status (${lowest}-${highest}), got ${status}`,
        );
      }
    });
  });
}

/** The class a model points at must exist; such a model names no provider or target. */
export function checkModelClass(
  model: { name: string; class: string; provider: string; target: string },
  at: string,
  classes: readonly ModelClass[],
  report: Report,
): void {
  if (!classes.some((c) => c.name === model.class)) {
    const known = classes.map((c) => c.name).join(', ') || 'no classes are defined';
    report(`${at}.class`, `no class named "${model.class}" (known: ${known})`);
  }
  if (model.name.endsWith('*')) report(`${at}.name`, 'a pattern cannot point at a class');
  if (model.provider !== '') report(`${at}.provider`, 'give either class or provider, not both');
  if (model.target !== '') report(`${at}.target`, 'give either class or target, not both');
}

/** A health window slice shorter than this would count mostly noise. */
const MIN_SLICE_MS = 100;
/** The shortest routing.health_window_ms: every one of its slices at least MIN_SLICE_MS. */
export const SHORTEST_HEALTH_WINDOW_MS = SLICE_COUNT * MIN_SLICE_MS;

export function checkRouting(routing: Routing, report: Report): void {
  const share = routing.exploreShare;
  if (share !== undefined && !(share >= 0 && share <= 1)) {
    report('routing.explore_share', `must be from 0 to 1, got ${share}`);
  }
  const shortest = SHORTEST_HEALTH_WINDOW_MS;
  if (routing.healthWindowMs !== 0 && routing.healthWindowMs < shortest) {
    report(
      'routing.health_window_ms',
      `at least ${shortest} (${SLICE_COUNT} slices of ${MIN_SLICE_MS} ms), got ${routing.healthWindowMs}`,
    );
  }
}
