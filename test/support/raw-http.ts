// One client connection, written and read byte for byte: for what an HTTP client library
// hides, such as whether an answer to HEAD carried a body that the next answer would be
// read from.

import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Names in lower case. */
  headers: Record<string, string>;
  body: string;
}

interface Waiting {
  heads: boolean[];
  resolve(answers: RawAnswer[]): void;
  reject(err: Error): void;
}

export class RawConnection {
  private received = Buffer.alloc(0);
  private waiting: Waiting | undefined;
  /** Settles when the server closes the connection. */
  readonly ended: Promise<void>;

  private constructor(private readonly socket: Socket) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (data) => this.take(data));
    socket.on('error', (err) => this.waiting?.reject(err));
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /**
   * Writes `requests` at once and reads one answer to each. An answer to HEAD has no body
   * whatever its Content-Length says; the others have the body it gives. Any byte after
   * the last answer fails it: a body that should not have been sent.
   */
  send(requests: string[], timeoutMs = 5_000): Promise<RawAnswer[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no full answers in ${timeoutMs} ms; got ${this.pending()}`));
      }, timeoutMs);
      this.waiting = {
        heads: requests.map((r) => r.startsWith('HEAD ')),
        resolve: (answers) => (clearTimeout(timer), resolve(answers)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
      this.socket.write(requests.join(''));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private pending(): string {
    return JSON.stringify(this.received.toString());
  }

  private take(data: Buffer): void {
    this.received = Buffer.concat([this.received, data]);
    const waiting = this.waiting;
    if (waiting === undefined) return;
    const read = readAnswers(this.received, waiting.heads);
    if (read === undefined) return;
    this.waiting = undefined;
    if (read.at < this.received.length) {
      waiting.reject(new Error(`bytes after the last answer: ${this.pending()}`));
      return;
    }
    this.received = Buffer.alloc(0);
    waiting.resolve(read.answers);
  }
}

/** Opens a connection, sends `requests` on it at once, reads their answers and closes it. */
export async function pipelined(url: string, requests: string[]): Promise<RawAnswer[]> {
  const connection = await RawConnection.open(url);
  try {
    return await connection.send(requests);
  } finally {
    connection.close();
  }
}

/** The answers and where they end, once all have come in whole; undefined until then. */
function readAnswers(
  data: Buffer,
  heads: boolean[],
): { answers: RawAnswer[]; at: number } | undefined {
  const answers: RawAnswer[] = [];
  let at = 0;
  for (const isHead of heads) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return undefined;
    const [statusLine, ...lines] = data.subarray(at, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = isHead ? 0 : Number(headers['content-length'] ?? 0);
    if (data.length < end + 4 + length) return undefined;
    answers.push({
      status: Number(statusLine!.split(' ')[1]),
      headers,
      body: data.subarray(end + 4, end + 4 + length).toString(),
    });
    at = end + 4 + length;
  }
  return { answers, at };
}
