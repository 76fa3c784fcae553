// The contract between the HTTP fronts (uWebSockets.js, node:http) and the handlers.
// Handlers see a fully read request and a reply object; they never touch a raw response.

export interface HttpRequest {
  /** Upper-case method. */
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: string;
  /** Header names are lower-case; repeated headers are joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface HttpReply {
  /** True once the client went away; every later write is a no-op. */
  readonly aborted: boolean;
  /** Called at most once, when the client disconnects before the reply ended. */
  onAbort(cb: () => void): void;
  /** A complete response. */
  send(status: number, headers: HeaderList, body: string | Uint8Array): void;
  /**
   * Starts a streamed response: chunked, or on the uWS front one body of known length when
   * end(last) comes before any write (the whole stream was known at once).
   */
  startStream(status: number, headers: HeaderList): void;
  /**
   * Writes one chunk of a streamed response. Resolves at once when the socket took it;
   * otherwise when the client drained its backlog (or went away).
   */
  write(chunk: Uint8Array): Promise<void> | void;
  /**
   * Ends a streamed response, after `last` when given: the final bytes and the end of the
   * body leave together (uWS: in one send after the head when nothing was written before).
   */
  end(last?: Uint8Array): void;
  /**
   * Cuts the connection: for a reply that can no longer be finished properly (reporting a
   * failure failed too). Optional for stand-ins; both fronts have it.
   */
  close?(): void;
  /**
   * A buffer of at least `bytes` bytes to assemble the next write in, when the front takes
   * what it is given before write() or end() returns (uWS copies what it cannot send at
   * once); shared, so it is valid only until that next call. Absent when the front keeps
   * a reference to written chunks (node:http).
   */
  scratch?(bytes: number): Buffer;
}

export type Handler = (req: HttpRequest, reply: HttpReply) => void | Promise<void>;

export interface FrontOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  handler: Handler;
  /**
   * Answers a request the front itself refuses (body too large), logged and counted like
   * any other; `req` is its head, with an empty body.
   */
  reject: (
    reply: HttpReply,
    code: 'GW_ERR_REQ_BODY_TOO_LARGE' | 'GW_ERR_REQ_BAD_HEADER',
    req: HttpRequest,
  ) => void;
}

export interface RunningFront {
  readonly kind: 'uws' | 'node';
  readonly port: number;
  /** Requests read and not yet answered (streams count until they end). */
  readonly inFlight: number;
  /** Stops accepting connections; requests in flight go on. */
  stopListening(): void;
  /** Asks keep-alive clients to reconnect elsewhere: later replies carry Connection: close. */
  readonly draining: boolean;
  setDraining(): void;
  /** Force-closes whatever is still open (the drain deadline passed). */
  closeAll(): void;
}
