#!/usr/bin/env node
// The command line: start, demo, keys. Everything else lives behind startSidecar().

import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { parseArgs } from 'node:util';
import { ListenSchema, type Policy } from '../proto/gen/modelgate/v1/policy_pb.js';
import { hashKey } from './auth/keys.js';
import { embeddedDefaults } from './config/defaults.js';
import { loadConfigFile } from './config/load.js';
import { newMessage } from './config/message.js';
import { ConfigError } from './config/validate.js';
import { createLogger, isLevel } from './observe/logger.js';
import { startSidecar, type HttpKind } from './sidecar.js';
import { runDemo } from './demo/run-demo.js';
import { runProvidersCommand } from './cli/providers.js';
import { keyEntryYaml } from './cli/key-entry.js';
import { START_NODE_OPTIONS, pretenuringOff, semiSpaceChosen } from './cli/heap-option.js';

const USAGE = `modelgate: an OpenAI-compatible LLM gateway sidecar

Usage:
  modelgate start [--config FILE] [--port N] [--host H] [--http auto|uws|node] [--log-level L]
  modelgate demo                  start the sidecar and mock providers, send requests, report
  modelgate keys new [--id ID] [--project P] [--team T]
                                  make a new API key and the config entry that accepts it
  modelgate keys hash KEY         print the sha256 to put in api_keys[].sha256
  modelgate providers [--json | --markdown] [--protocol P] [--capability C]
                                  the provider catalog

Environment: MODELGATE_CONFIG (as --config), MODELGATE_PORT (as --port),
MODELGATE_LOG_LEVEL (debug|info|warn|error). With no config, providers come from
OPENAI_API_KEY, GROQ_API_KEY, ... or, when none is set, the offline demo provider (demo/*).
`;

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function fail(text: string, code = 2): never {
  process.stderr.write(`modelgate: ${text}\n`);
  process.exit(code);
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      http: { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const level = values['log-level'] ?? process.env.MODELGATE_LOG_LEVEL ?? 'info';
  if (!isLevel(level)) fail(`--log-level must be debug, info, warn or error, got "${level}"`);
  const http = values.http ?? 'auto';
  if (http !== 'auto' && http !== 'uws' && http !== 'node') {
    fail(`--http must be auto, uws or node, got "${http}"`);
  }
  // An empty MODELGATE_PORT (a blank templated variable) is no port, not port 0.
  const portText = values.port ?? (process.env.MODELGATE_PORT?.trim() || undefined);
  // Decimal digits only: Number() would also read "", "0x1F40" and "1e3".
  const port =
    portText === undefined ? undefined : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (port !== undefined && !(port >= 0 && port <= 65535)) {
    const name = values.port !== undefined ? '--port' : 'MODELGATE_PORT';
    fail(`${name} must be a whole number from 0 to 65535, got "${portText}"`);
  }

  const logger = createLogger({ level });
  const configPath = values.config ?? process.env.MODELGATE_CONFIG;
  let policy: Policy;
  try {
    policy = configPath ? loadConfigFile(configPath) : embeddedDefaults(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  if (values.host !== undefined) {
    policy.listen = newMessage(ListenSchema, { port: policy.listen?.port ?? 0, host: values.host });
  }
  // npm start passes these; a plain `node dist/sidecar/main.js` or the bin does not (a
  // shebang cannot carry them everywhere: busybox's env has no -S).
  const advice = (why: string) =>
    `run node with ${START_NODE_OPTIONS.join(' ')} as npm start does (${why}); see README "Memory"`;
  if (!semiSpaceChosen(process.execArgv, process.env.NODE_OPTIONS)) {
    logger.info('node runs with its default 16 MB semi-spaces', {
      advice: advice(
        'a smaller young generation keeps p99 steady under sustained load; the next three keep memory down and compiled code across idle spells; the last keeps V8 from pretenuring under streamed load',
      ),
    });
  }
  if (!pretenuringOff(process.execArgv)) {
    logger.info('node runs with allocation-site pretenuring', {
      advice: advice(
        'a sidecar started straight into streamed load at 64 connections ran full collections every 85-100 ms with it, at about three quarters of the throughput it had without',
      ),
    });
  }
  if (!configPath) {
    logger.info('no config file: running on embedded defaults', {
      providers: policy.providers.map((p) => p.id),
    });
  }

  let sidecar;
  try {
    sidecar = await startSidecar({ policy, logger, port, http: http as HttpKind });
  } catch (err) {
    logger.flush();
    fail((err as Error).message);
  }

  // Once serving, every request's failures are answered where they happen; anything that
  // still escapes is a bug to log, not a reason to drop every other request in flight.
  // (Before this point a failure must stop the process with a non-zero code.)
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection; still serving', {
      error: reason instanceof Error ? reason.stack : String(reason),
    });
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal (Ctrl-C again at a terminal) means now: what is in flight is cut.
      logger.warn('stopped without finishing the drain', { signal });
      logger.flush();
      process.exit(128 + osConstants.signals[signal]);
    }
    stopping = true;
    logger.info('draining', { signal });
    sidecar.drain().then(
      ({ clean }) => {
        logger.info('stopped', { clean });
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('drain failed', {
          error: err instanceof Error ? err.stack : String(err),
        });
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function keys(argv: string[]): void {
  const [verb, ...rest] = argv;
  if (verb === 'hash') {
    if (rest.length !== 1) fail('usage: modelgate keys hash KEY');
    out(hashKey(rest[0]));
    return;
  }
  if (verb === 'new') {
    const { values } = parseArgs({
      args: rest,
      options: { id: { type: 'string' }, project: { type: 'string' }, team: { type: 'string' } },
    });
    // The config refuses an api_keys entry with an empty id; say so before minting a key.
    if (values.id === '') fail('--id must not be empty');
    const key = `sk-mg-${randomBytes(24).toString('base64url')}`;
    out(`key (give it to the application; it is not stored anywhere): ${key}`);
    out('config entry:');
    out('api_keys:');
    out(
      keyEntryYaml({
        id: values.id ?? 'app',
        sha256: hashKey(key),
        project: values.project ?? 'default',
        team: values.team ?? 'default',
      }),
    );
    return;
  }
  fail('usage: modelgate keys new|hash ...');
}

async function main(): Promise<void> {
  // `modelgate providers | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start':
      return start(rest);
    case 'demo':
      // It takes nothing: `demo --port 4000` would otherwise run as if the port were taken.
      if (rest.length > 0) fail(`demo takes no arguments (got ${JSON.stringify(rest[0])})`);
      process.exitCode = await runDemo(out);
      return;
    case 'keys':
      return keys(rest);
    case 'providers':
      process.exitCode = runProvidersCommand(rest, out);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main().catch((err: unknown) => {
  // parseArgs refuses unknown options and missing values with a readable message.
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    fail(`${(err as Error).message}\n\n${USAGE}`);
  }
  // Anything else before serving (a config the YAML parser itself refuses, say) stops us.
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
});
