import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/hook?token=x`. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status the server answered (or `hang` when it never answered). */
  answered: number | 'hang';
}

/** What the server answers to one request. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer: for timeout tests. The socket is destroyed by `close()`. */
  hang?: boolean;
}

export interface WebhookServer {
  /** Base URL, e.g. `http://127.0.0.1:41234/hook`. */
  url: string;
  requests: RecordedRequest[];
  /** Queues answers, used in order; after they run out the default answer is used. */
  script(...responses: ScriptedResponse[]): void;
  /** The answer once the script is used up (200 unless changed). */
  setDefault(response: ScriptedResponse): void;
  /** Parsed JSON bodies of the requests, in order. */
  bodies(): unknown[];
  close(): Promise<void>;
}

/** A scripted local HTTP receiver on 127.0.0.1 (random port) that records every request. */
export async function startWebhookServer(opts: { path?: string; default?: ScriptedResponse } = {}): Promise<WebhookServer> {
  const queue: ScriptedResponse[] = [];
  let fallback: ScriptedResponse = opts.default ?? { status: 200, body: 'ok' };
  const requests: RecordedRequest[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = queue.shift() ?? fallback;
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered: answer.hang ? 'hang' : answer.status,
      });
      if (answer.hang) return;
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${opts.path ?? '/hook'}`,
    requests,
    script: (...r) => void queue.push(...r),
    setDefault: (r) => {
      fallback = r;
    },
    bodies: () => requests.map((r) => JSON.parse(r.body) as unknown),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on which nothing listens: connection refused. */
export async function refusedUrl(): Promise<string> {
  const s = await startWebhookServer();
  const url = s.url;
  await s.close();
  return url;
}
