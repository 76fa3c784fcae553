// What the sidecar's command loads decides a share of its resident memory: every module
// parsed stays in the heap. This checks, on the built command, that the module graph of
// `modelgate` leaves out what it does not use.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../dist/sidecar/main.js');

/** The CommonJS modules that importing the command loaded, under node_modules/PKG/. */
function loadedFrom(pkg: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(MAIN)});
    const loaded = Object.keys(createRequire(${JSON.stringify(MAIN)}).cache);
    process.stdout.write(JSON.stringify(loaded.filter((f) => f.includes('/node_modules/${pkg}/'))));
  `;
  // With no arguments the command prints its usage and returns: nothing is started.
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.slice(out.lastIndexOf('['))) as string[];
}

/** The ES modules that importing the command loaded, under node_modules/PKG/. */
function esmLoadedFrom(pkg: string): string[] {
  // A resolve hook (it runs on the loader's own thread) posts each URL it resolves; every
  // post is queued before the import it answers goes on, so all are there to read after.
  const hook = `let port;
    export function initialize(data) { port = data.port; }
    export async function resolve(specifier, context, next) {
      const found = await next(specifier, context);
      port.postMessage(found.url);
      return found;
    }`;
  const script = `
    import { register } from 'node:module';
    import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)}, {
      data: { port: port2 },
      transferList: [port2],
    });
    await import(${JSON.stringify(MAIN)});
    const loaded = [];
    for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) loaded.push(m.message);
    port1.close();
    process.stdout.write(JSON.stringify(loaded.filter((u) => u.includes('/node_modules/${pkg}/'))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.slice(out.lastIndexOf('['))) as string[];
}

describe.skipIf(!existsSync(MAIN))('the command module graph (needs npm run build)', () => {
  it("loads undici's pool, not its entry point (fetch, WebSocket, cache: 9 MB)", () => {
    const undici = loadedFrom('undici');
    expect(undici.some((f) => f.endsWith('/lib/dispatcher/pool.js'))).toBe(true);
    expect(undici.filter((f) => f.endsWith('/undici/index.js'))).toEqual([]);
    expect(undici.filter((f) => f.includes('/lib/web/'))).toEqual([]);
  });

  it("loads protobuf's reflect entry point, not its main one (codecs, well-known types: 2 MB)", () => {
    const protobuf = esmLoadedFrom('@bufbuild/protobuf');
    expect(protobuf.some((u) => u.endsWith('/dist/esm/reflect/index.js'))).toBe(true);
    expect(protobuf.filter((u) => u.endsWith('/@bufbuild/protobuf/dist/esm/index.js'))).toEqual([]);
    const named = (file: string) => protobuf.filter((u) => u.endsWith(`/dist/esm/${file}`));
    expect(named('from-json.js')).toEqual([]);
    expect(named('wkt/index.js')).toEqual([]);
  });

  it('loads no YAML parser until a YAML config is read (2 MB)', () => {
    expect(loadedFrom('yaml')).toEqual([]);
  });
});
