import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AliyunAbortedError,
  AliyunApiError,
  AliyunBadResponseError,
  AliyunCredentialsError,
  AliyunNetworkError,
  AliyunTimeoutError,
  RpcClient,
  staticCredentials,
} from '../../../src/aliyun';
import type { RpcCallEvent, RpcClientOptions } from '../../../src/aliyun';
import { percentEncode, stringToSign } from '../../../src/aliyun/signer';
import { AK_ID, AK_SECRET, apiError, json, startLoopback, STS_TOKEN } from './loopback-server';
import type { Handler, Loopback } from './loopback-server';

async function rpcAgainst(
  handler: Handler,
  opts: Partial<RpcClientOptions> = {},
): Promise<{ server: Loopback; rpc: RpcClient; events: RpcCallEvent[] }> {
  const server = await startLoopback(handler);
  const events: RpcCallEvent[] = [];
  const rpc = new RpcClient({
    credentials: staticCredentials(AK_ID, AK_SECRET, STS_TOKEN),
    endpoint: () => server.origin,
    keepAliveTimeoutMs: 10,
    onCall: (e) => events.push(e),
    ...opts,
  });
  onTestFinished(async () => {
    await rpc.close();
    await server.close();
  });
  return { server, rpc, events };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof Error)) throw new Error('expected the call to fail');
  return e;
}

const ok: Handler = (_req, res) => json(res, 200, { RequestId: 'REQ-OK' });

describe('request shape and signing', () => {
  it('POSTs to / with every parameter in the signed query, SecurityToken included', async () => {
    const { server, rpc } = await rpcAgainst(ok);
    const body = await rpc.call(
      'ess',
      'DescribeScalingGroups',
      { RegionId: 'cn-hangzhou', 'ScalingGroupId.1': 'asg-1', Skipped: undefined },
      { regionId: 'cn-hangzhou' },
    );
    expect(body).toEqual({ RequestId: 'REQ-OK' });
    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/');
    expect(req?.signatureValid).toBe(true);
    expect(req?.body).toEqual({});
    expect(req?.query).toMatchObject({
      Action: 'DescribeScalingGroups',
      Version: '2014-08-28',
      Format: 'JSON',
      RegionId: 'cn-hangzhou',
      'ScalingGroupId.1': 'asg-1',
      AccessKeyId: AK_ID,
      SecurityToken: STS_TOKEN,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
    });
    expect(req?.query).not.toHaveProperty('Skipped');
    expect(req?.query.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(req?.query.SignatureNonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(req)).not.toContain(AK_SECRET);
  });

  it('uses a fresh nonce per request and the right Version per product', async () => {
    const { server, rpc } = await rpcAgainst(ok);
    await rpc.call('slb', 'DescribeHealthStatus', { RegionId: 'cn-hangzhou' }, { regionId: 'cn-hangzhou' });
    await rpc.call('alb', 'ListAsynJobs', {}, { regionId: 'cn-hangzhou' });
    expect(server.requests.map((r) => r.query.Version)).toEqual(['2014-05-15', '2020-06-16']);
    expect(server.requests[0]?.query.SignatureNonce).not.toBe(server.requests[1]?.query.SignatureNonce);
    expect(server.requests.every((r) => r.signatureValid)).toBe(true);
  });

  it('sends body parameters as a form and signs query and body together', async () => {
    const { server, rpc } = await rpcAgainst(ok);
    await rpc.call(
      'alb',
      'UpdateServerGroupServersAttribute',
      { ServerGroupId: 'sgp-1' },
      {
        regionId: 'cn-hangzhou',
        body: { 'Servers.1.ServerId': 'i-1', 'Servers.1.Weight': '0', 'Servers.1.Description': 'a b*~é' },
      },
    );
    const [req] = server.requests;
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.body).toEqual({
      'Servers.1.ServerId': 'i-1',
      'Servers.1.Weight': '0',
      'Servers.1.Description': 'a b*~é',
    });
    expect(Object.keys(req?.query ?? {}).some((k) => k.startsWith('Servers.'))).toBe(false);
    expect(req?.signatureValid).toBe(true);
  });

  it('signs with the real verb for GET', async () => {
    const { server, rpc } = await rpcAgainst(ok);
    await rpc.call('ess', 'DescribeRegions', {}, { regionId: 'cn-hangzhou', method: 'GET' });
    expect(server.requests[0]?.method).toBe('GET');
    expect(server.requests[0]?.signatureValid).toBe(true);
  });

  it('a server holding another secret sees an invalid signature', async () => {
    const server = await startLoopback(ok, 'some-other-secret');
    const rpc = new RpcClient({
      credentials: staticCredentials(AK_ID, AK_SECRET),
      endpoint: () => server.origin,
      keepAliveTimeoutMs: 10,
    });
    onTestFinished(async () => {
      await rpc.close();
      await server.close();
    });
    await rpc.call('ess', 'DescribeRegions', {}, { regionId: 'cn-hangzhou' });
    expect(server.requests[0]?.signatureValid).toBe(false);
  });
});

describe('error mapping', () => {
  it('turns the error envelope into AliyunApiError with every field', async () => {
    const { server, rpc, events } = await rpcAgainst((_req, res) =>
      apiError(
        res,
        400,
        'IncorrectCapacity.MinSize',
        'To remove the instances, the total capacity will be lesser than the MinSize.',
        'REQ-42',
      ),
    );
    const e = await failure(
      rpc.call('ess', 'RemoveInstances', { RegionId: 'cn-hangzhou' }, { regionId: 'cn-hangzhou' }),
    );
    expect(e).toBeInstanceOf(AliyunApiError);
    const api = e as AliyunApiError;
    expect(api.name).toBe('AliyunApiError');
    expect(api.code).toBe('IncorrectCapacity.MinSize');
    expect(api.httpStatus).toBe(400);
    expect(api.requestId).toBe('REQ-42');
    expect(api.recommend).toBe('https://next.api.aliyun.com/troubleshoot?q=IncorrectCapacity.MinSize&product=Ess');
    expect(api.action).toBe('RemoveInstances');
    expect(api.ambiguous).toBe(false);
    expect(api.apiMessage).toBe('To remove the instances, the total capacity will be lesser than the MinSize.');
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([
      expect.objectContaining({
        product: 'ess',
        action: 'RemoveInstances',
        requestId: 'REQ-42',
        httpStatus: 400,
        outcome: 'IncorrectCapacity.MinSize',
      }),
    ]);
  });

  it('maps an HTML 502 to an ambiguous AliyunBadResponseError', async () => {
    const { rpc } = await rpcAgainst((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
    });
    const e = await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou' }));
    expect(e).toBeInstanceOf(AliyunBadResponseError);
    expect(e).toMatchObject({
      name: 'AliyunBadResponseError',
      code: 'BadResponse',
      httpStatus: 502,
      ambiguous: true,
      action: 'RemoveInstances',
    });
    expect(e.message).toContain('502 Bad Gateway');
  });

  it('treats an unreadable 2xx as ambiguous and an unreadable 4xx as not', async () => {
    let status = 200;
    const { rpc } = await rpcAgainst((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('not json');
    });
    expect(await failure(rpc.call('ess', 'X', {}, { regionId: 'cn-hangzhou' }))).toMatchObject({
      name: 'AliyunBadResponseError',
      httpStatus: 200,
      ambiguous: true,
    });
    status = 404;
    expect(await failure(rpc.call('ess', 'X', {}, { regionId: 'cn-hangzhou' }))).toMatchObject({
      name: 'AliyunBadResponseError',
      httpStatus: 404,
      ambiguous: false,
    });
  });

  it('times out a hanging server within timeoutMs, once, with an ambiguous AliyunTimeoutError', async () => {
    const { server, rpc, events } = await rpcAgainst(() => undefined, { timeoutMs: 80 });
    const started = Date.now();
    const e = await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou' }));
    const elapsed = Date.now() - started;
    expect(e).toBeInstanceOf(AliyunTimeoutError);
    expect(e).toMatchObject({ name: 'AliyunTimeoutError', code: 'RequestTimeout', ambiguous: true, timeoutMs: 80 });
    expect(elapsed).toBeGreaterThanOrEqual(75);
    expect(elapsed).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
    expect(events[0]?.outcome).toBe('RequestTimeout');
  });

  it('times out when headers arrive but the body stalls; the per-call timeout overrides the default', async () => {
    const { rpc } = await rpcAgainst(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"RequestId":');
      },
      { timeoutMs: 10_000 },
    );
    const started = Date.now();
    const e = await failure(rpc.call('ess', 'DescribeScalingGroups', {}, { regionId: 'cn-hangzhou', timeoutMs: 60 }));
    expect(e).toBeInstanceOf(AliyunTimeoutError);
    expect((e as AliyunTimeoutError).timeoutMs).toBe(60);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('maps a socket destroyed mid-response to an ambiguous AliyunNetworkError, without retrying', async () => {
    const { server, rpc } = await rpcAgainst((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"RequestId":"half', () => res.socket?.destroy());
    });
    const e = await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou' }));
    expect(e).toBeInstanceOf(AliyunNetworkError);
    expect(e).toMatchObject({ name: 'AliyunNetworkError', code: 'NetworkError', ambiguous: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(server.requests).toHaveLength(1);
  });

  it('maps a connection closed before any response to an ambiguous AliyunNetworkError', async () => {
    const { server, rpc } = await rpcAgainst((_req, res) => {
      res.socket?.destroy();
    });
    const e = await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou' }));
    expect(e).toMatchObject({ name: 'AliyunNetworkError', ambiguous: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(server.requests).toHaveLength(1);
  });

  it('maps a refused connection to an AliyunNetworkError that is not ambiguous', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const rpc = new RpcClient({
      credentials: staticCredentials(AK_ID, AK_SECRET),
      endpoint: () => `http://127.0.0.1:${port}`,
    });
    onTestFinished(() => rpc.close());
    const e = await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou' }));
    expect(e).toBeInstanceOf(AliyunNetworkError);
    expect(e).toMatchObject({ ambiguous: false });
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('does not retry a 503 either', async () => {
    const { server, rpc } = await rpcAgainst((_req, res) =>
      apiError(res, 503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.'),
    );
    expect(await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou' }))).toMatchObject({
      code: 'ServiceUnavailable',
      httpStatus: 503,
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(server.requests).toHaveLength(1);
  });

  it('maps a caller abort mid-request to AliyunAbortedError', async () => {
    const { server, rpc, events } = await rpcAgainst(() => undefined, { timeoutMs: 5_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const started = Date.now();
    const e = await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou', signal: ac.signal }));
    expect(e).toBeInstanceOf(AliyunAbortedError);
    expect(e).toMatchObject({ name: 'AliyunAbortedError', code: 'Aborted', ambiguous: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
    expect(events[0]?.outcome).toBe('Aborted');
  });

  it('does not send anything when the signal is already aborted', async () => {
    const { server, rpc } = await rpcAgainst(ok);
    const e = await failure(
      rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou', signal: AbortSignal.abort() }),
    );
    expect(e).toBeInstanceOf(AliyunAbortedError);
    expect(server.requests).toHaveLength(0);
  });

  it('wraps a failing credentials provider without repeating its message', async () => {
    const { server, rpc } = await rpcAgainst(ok, {
      credentials: { getCredentials: () => Promise.reject(new Error(`vault said no: ${AK_SECRET}`)) },
    });
    const e = await failure(rpc.call('ess', 'RemoveInstances', {}, { regionId: 'cn-hangzhou' }));
    expect(e).toBeInstanceOf(AliyunCredentialsError);
    expect(e.message).not.toContain(AK_SECRET);
    expect(server.requests).toHaveLength(0);
  });

  it('fails closed after close(): not sent, so not ambiguous', async () => {
    const { server, rpc } = await rpcAgainst(ok);
    await rpc.close();
    const e = await failure(rpc.call('ess', 'DescribeRegions', {}, { regionId: 'cn-hangzhou' }));
    expect(e).toMatchObject({ name: 'AliyunNetworkError', ambiguous: false });
    expect(server.requests).toHaveLength(0);
  });
});

describe('secret hygiene', () => {
  it('never puts the AccessKeySecret or SecurityToken into any error, even when the server echoes them', async () => {
    let mode = 0;
    const { rpc } = await rpcAgainst(
      (req, res) => {
        const { Signature: _s, ...unsigned } = req.params;
        const echoed = stringToSign(req.method, unsigned);
        if (mode === 0) {
          // Like the real gateway, which quotes its StringToSign (SecurityToken inside, double-encoded).
          json(res, 400, {
            RequestId: 'R',
            HostId: 'ess.aliyuncs.com',
            Code: 'SignatureDoesNotMatch',
            Message:
              'Specified signature is not matched with our calculation. ' +
              `server string to sign is:${echoed} token=${STS_TOKEN} secret=${AK_SECRET}`,
            Recommend: `https://example.test/?t=${percentEncode(STS_TOKEN)}`,
          });
        } else if (mode === 1) {
          res.writeHead(502, { 'content-type': 'text/html' });
          res.end(`<pre>${req.params.SecurityToken ?? ''} ${percentEncode(STS_TOKEN)} ${AK_SECRET}</pre>`);
        } else if (mode === 2) {
          res.socket?.destroy();
        }
      },
      { timeoutMs: 60 },
    );
    const errors: Error[] = [];
    for (mode = 0; mode <= 3; mode++)
      errors.push(
        await failure(rpc.call('ess', 'RemoveInstances', { RegionId: 'cn-hangzhou' }, { regionId: 'cn-hangzhou' })),
      );
    expect(errors.map((e) => e.name)).toEqual([
      'AliyunApiError',
      'AliyunBadResponseError',
      'AliyunNetworkError',
      'AliyunTimeoutError',
    ]);
    const encodings = (v: string): string[] => [v, percentEncode(v), percentEncode(percentEncode(v))];
    for (const e of errors) {
      for (const text of [e.message, JSON.stringify(e), inspect(e, { depth: 10 }), String(e.stack)]) {
        for (const secret of [...encodings(AK_SECRET), ...encodings(STS_TOKEN)]) expect(text).not.toContain(secret);
      }
    }
    expect(errors[0]?.message).toContain('***');
  });
});

describe('onCall hook', () => {
  it('reports successes with RequestId and duration, and survives a throwing hook', async () => {
    const { rpc, events } = await rpcAgainst(ok);
    await rpc.call('slb', 'DescribeHealthStatus', {}, { regionId: 'cn-hangzhou' });
    expect(events).toEqual([
      {
        product: 'slb',
        action: 'DescribeHealthStatus',
        requestId: 'REQ-OK',
        httpStatus: 200,
        durationMs: expect.any(Number),
        outcome: 'ok',
      },
    ]);
    expect(events[0]?.durationMs).toBeGreaterThanOrEqual(0);

    const server = await startLoopback(ok);
    const throwing = new RpcClient({
      credentials: staticCredentials(AK_ID, AK_SECRET),
      endpoint: () => server.origin,
      onCall: () => {
        throw new Error('metrics down');
      },
    });
    onTestFinished(async () => {
      await throwing.close();
      await server.close();
    });
    await expect(throwing.call('ess', 'DescribeRegions', {}, { regionId: 'cn-hangzhou' })).resolves.toEqual({
      RequestId: 'REQ-OK',
    });
  });
});
