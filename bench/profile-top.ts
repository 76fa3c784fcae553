// Reads a V8 .cpuprofile (from `node --cpu-prof`) and lists where the time went: functions
// by self time and by inclusive time, mapped back to the TypeScript line through the
// compiler's source maps, plus a summary by area (sidecar folder, package, runtime).
//
//   node dist/bench/profile-top.js FILE.cpuprofile [--limit 25]

import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  /** Zero-based, as V8 reports them. */
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface HotSpot {
  name: string;
  /** `file:line` of the function's start, in the TypeScript source where one exists. */
  where: string;
  area: string;
  selfPct: number;
  totalPct: number;
}

export interface ProfileSummary {
  sampledMs: number;
  /** Every function seen, by self time, most first. */
  functions: HotSpot[];
  /** Self time per area, most first. */
  areas: { area: string; selfPct: number }[];
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function summarizeProfile(path: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0) || 1;
  const maps = new SourceMaps();

  const spots = new Map<string, HotSpot & { self: number; total: number }>();
  const spotOf = (frame: CallFrame) => {
    const where = maps.locate(frame);
    const key = `${frame.functionName}@${where}`;
    let spot = spots.get(key);
    if (spot === undefined) {
      const name = frame.functionName || '(anonymous)';
      spot = { name, where, area: areaOf(where, name), selfPct: 0, totalPct: 0, self: 0, total: 0 };
      spots.set(key, spot);
    }
    return spot;
  };

  // Inclusive time counts a function once per stack, however often it recurses. The walk
  // is iterative: stacks through streams and promises run deep.
  const root = profile.nodes[0];
  const work: { node: ProfileNode; onStack: Set<string> }[] = [{ node: root, onStack: new Set() }];
  while (work.length > 0) {
    const { node, onStack } = work.pop()!;
    const spot = spotOf(node.callFrame);
    const key = `${spot.name}@${spot.where}`;
    const hits = subtreeHits(node, byId);
    spot.self += node.hitCount ?? 0;
    if (!onStack.has(key)) spot.total += hits;
    const below = onStack.has(key) ? onStack : new Set(onStack).add(key);
    for (const child of node.children ?? []) work.push({ node: byId.get(child)!, onStack: below });
  }

  const all = [...spots.values()].filter((s) => s.name !== '(root)');
  for (const s of all) {
    s.selfPct = (100 * s.self) / totalHits;
    s.totalPct = (100 * s.total) / totalHits;
  }
  const areas = new Map<string, number>();
  for (const s of all) areas.set(s.area, (areas.get(s.area) ?? 0) + s.selfPct);

  return {
    sampledMs: (profile.endTime - profile.startTime) / 1000,
    functions: all.sort((a, b) => b.self - a.self || b.total - a.total),
    areas: [...areas]
      .map(([area, selfPct]) => ({ area, selfPct }))
      .sort((a, b) => b.selfPct - a.selfPct),
  };
}

const subtreeMemo = new WeakMap<ProfileNode, number>();

function subtreeHits(node: ProfileNode, byId: Map<number, ProfileNode>): number {
  const known = subtreeMemo.get(node);
  if (known !== undefined) return known;
  // Children first, without recursion, then each parent from its children.
  const order: ProfileNode[] = [];
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    for (const c of n.children ?? []) stack.push(byId.get(c)!);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    let sum = n.hitCount ?? 0;
    for (const c of n.children ?? []) sum += subtreeMemo.get(byId.get(c)!) ?? 0;
    subtreeMemo.set(n, sum);
  }
  return subtreeMemo.get(node)!;
}

/** Maps compiled positions to sources with the `.js.map` files tsc wrote beside them. */
class SourceMaps {
  private readonly cache = new Map<string, SourceMap | undefined>();

  locate(frame: CallFrame): string {
    if (frame.url === '') return '';
    if (!frame.url.startsWith('file://')) return `${frame.url}:${frame.lineNumber + 1}`;
    const file = fileURLToPath(frame.url);
    const entry = this.map(file)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry !== undefined && 'originalSource' in entry) {
      const source = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : resolve(dirname(file), entry.originalSource);
      return `${shortPath(source)}:${entry.originalLine + 1}`;
    }
    return `${shortPath(file)}:${frame.lineNumber + 1}`;
  }

  private map(file: string): SourceMap | undefined {
    if (this.cache.has(file)) return this.cache.get(file);
    let map: SourceMap | undefined;
    if (existsSync(`${file}.map`)) {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as never);
    }
    this.cache.set(file, map);
    return map;
  }
}

/** A path from the repository root; for another build's files, from its own root. */
function shortPath(file: string): string {
  const path = relative(ROOT, file);
  if (!path.startsWith('..')) return path;
  const at = file.search(/\/(sidecar|bench|proto|node_modules)\//);
  return at === -1 ? file : file.slice(at + 1);
}

function areaOf(where: string, name: string): string {
  if (where === '') return name; // (program), (garbage collector), (idle), natives
  if (where.startsWith('sidecar/')) return where.split('/').slice(0, 2).join('/');
  if (where.startsWith('proto/')) return 'proto';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (pkg !== null) return pkg[1];
  if (where.startsWith('node:')) return 'node internals';
  return where.split(':')[0];
}

export function formatProfile(summary: ProfileSummary, limit: number): string {
  const pct = (n: number): string => `${n.toFixed(1)}%`;
  const lines = [
    `Sampled ${(summary.sampledMs / 1000).toFixed(1)} s.`,
    '',
    '| self | total | function | where |',
    '|---:|---:|---|---|',
    ...summary.functions
      .slice(0, limit)
      .map((s) => `| ${pct(s.selfPct)} | ${pct(s.totalPct)} | ${s.name} | ${s.where} |`),
    '',
    '| area | self |',
    '|---|---:|',
    ...summary.areas.slice(0, 15).map((a) => `| ${a.area} | ${pct(a.selfPct)} |`),
  ];
  return lines.join('\n');
}

/** The project's own functions by inclusive time: where a fix would pay most. */
export function formatOwnInclusive(summary: ProfileSummary, limit: number): string {
  const own = summary.functions
    .filter((s) => s.where.startsWith('sidecar/'))
    .sort((a, b) => b.totalPct - a.totalPct)
    .slice(0, limit);
  return [
    '| total | self | function | where |',
    '|---:|---:|---|---|',
    ...own.map(
      (s) => `| ${s.totalPct.toFixed(1)}% | ${s.selfPct.toFixed(1)}% | ${s.name} | ${s.where} |`,
    ),
  ].join('\n');
}

export interface ProfiledRun {
  label: string;
  summary: ProfileSummary;
  /** CPU time per request, measured apart from the profile; scales its shares. */
  cpuUsPerRequest: number;
}

/** Busy time per request of each function (or area), from its share of the busy samples. */
function perRequest(run: ProfiledRun, by: 'function' | 'area'): Map<string, number> {
  const { summary, cpuUsPerRequest } = run;
  const idle = summary.areas.find((a) => a.area === '(idle)')?.selfPct ?? 0;
  const scale = cpuUsPerRequest / (100 - idle);
  const rows =
    by === 'area'
      ? summary.areas.map((a) => [a.area, a.selfPct] as const)
      : summary.functions.map((f) => [`${f.name} | ${f.where}`, f.selfPct] as const);
  return new Map(rows.filter(([key]) => !key.startsWith('(idle)')).map(([k, p]) => [k, p * scale]));
}

const us = (n: number | undefined): string => (n === undefined ? '' : n.toFixed(1));

/**
 * Areas side by side in microseconds per request: each area's share of the busy samples
 * times the run's CPU time per request. Approximate (sampling, profiler overhead), but it
 * shows where one process spends more than another on the same work.
 */
export function formatAreaComparison(runs: ProfiledRun[], limit: number): string {
  const maps = runs.map((run) => perRequest(run, 'area'));
  const largest = (area: string): number => Math.max(...maps.map((m) => m.get(area) ?? 0));
  const areas = [...new Set(maps.flatMap((m) => [...m.keys()]))]
    .sort((a, b) => largest(b) - largest(a))
    .slice(0, limit);
  return [
    `| area | ${runs.map((r) => `${r.label} µs/req`).join(' | ')} |`,
    `|---|${runs.map(() => '---:|').join('')}`,
    ...areas.map((area) => `| ${area} | ${maps.map((m) => us(m.get(area))).join(' | ')} |`),
    `| all (measured, profiler off) | ${runs.map((r) => us(r.cpuUsPerRequest)).join(' | ')} |`,
  ].join('\n');
}

/** The functions on which `a` spends the most time per request beyond what `b` spends. */
export function formatFunctionDiff(a: ProfiledRun, b: ProfiledRun, limit: number): string {
  const ma = perRequest(a, 'function');
  const mb = perRequest(b, 'function');
  const rows = [...new Set([...ma.keys(), ...mb.keys()])]
    .map((key) => ({ key, a: ma.get(key) ?? 0, b: mb.get(key) ?? 0 }))
    .sort((x, y) => y.a - y.b - (x.a - x.b))
    .slice(0, limit);
  return [
    `| extra µs/req | ${a.label} | ${b.label} | function | where |`,
    '|---:|---:|---:|---|---|',
    ...rows.map((r) => `| ${us(r.a - r.b)} | ${us(r.a)} | ${us(r.b)} | ${r.key} |`),
  ].join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { limit: { type: 'string', default: '25' } },
  });
  if (positionals.length !== 1) throw new Error('usage: profile-top FILE.cpuprofile [--limit N]');
  const summary = summarizeProfile(positionals[0]);
  process.stdout.write(`${formatProfile(summary, Number(values.limit))}\n\n`);
  process.stdout.write(`${formatOwnInclusive(summary, Number(values.limit))}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
