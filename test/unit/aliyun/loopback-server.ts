/**
 * A tiny real HTTP server on 127.0.0.1 for the client tests: it verifies V1 signatures with the
 * same signer the emulator will use, records what it saw, and lets each test answer as it likes.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import { createCloudClient, staticCredentials } from '../../../src/aliyun';
import type { ClosableCloudClient, CreateCloudClientOptions, RpcCallEvent } from '../../../src/aliyun';
import { computeSignature } from '../../../src/aliyun/signer';

export const AK_ID = 'LTAI-test-id';
export const AK_SECRET = 'sEcReT-do-not-leak-0123456789';
export const STS_TOKEN = 'STS.token/with+special=chars&more-secret';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  query: Record<string, string>;
  body: Record<string, string>;
  /** Query and body merged, as the signature covers them. */
  params: Record<string, string>;
  signatureValid: boolean;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

export interface Loopback {
  origin: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

function toRecord(sp: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of sp) out[k] = v;
  return out;
}

export async function startLoopback(handler: Handler, secret = AK_SECRET): Promise<Loopback> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const query = toRecord(url.searchParams);
      const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const body = isForm ? toRecord(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) : {};
      const params = { ...query, ...body };
      const { Signature, ...unsigned } = params;
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: url.pathname,
        headers: req.headers,
        query,
        body,
        params,
        signatureValid: Signature !== undefined && computeSignature(req.method ?? '', unsigned, secret) === Signature,
      };
      requests.push(seen);
      void Promise.resolve(handler(seen, res)).catch((e: unknown) => {
        res.statusCode = 599;
        res.end(String(e));
      });
    });
  });
  server.keepAliveTimeout = 50;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function apiError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId = 'REQ-ERR-1',
): void {
  json(res, status, {
    RequestId: requestId,
    HostId: 'ess.aliyuncs.com',
    Code: code,
    Message: message,
    Recommend: `https://next.api.aliyun.com/troubleshoot?q=${code}&product=Ess`,
  });
}

/** Server + cloud client pointed at it for every product; both are torn down when the test ends. */
export async function setup(
  handler: Handler,
  opts: Partial<CreateCloudClientOptions> = {},
): Promise<{ server: Loopback; client: ClosableCloudClient; events: RpcCallEvent[] }> {
  const server = await startLoopback(handler);
  const events: RpcCallEvent[] = [];
  const client = createCloudClient({
    credentials: staticCredentials(AK_ID, AK_SECRET, STS_TOKEN),
    endpoints: { ess: server.origin, slb: server.origin, alb: server.origin, nlb: server.origin },
    keepAliveTimeoutMs: 10,
    onCall: (e) => events.push(e),
    ...opts,
  });
  onTestFinished(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, events };
}

/** The indexed `Name.N` parameters of a request, in N order. */
export function indexed(params: Record<string, string>, name: string): string[] {
  return Object.keys(params)
    .filter((k) => k.startsWith(`${name}.`) && /^\d+$/.test(k.slice(name.length + 1)))
    .sort((a, b) => Number(a.slice(name.length + 1)) - Number(b.slice(name.length + 1)))
    .map((k) => params[k] ?? '');
}
