import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { percentEncode } from '../../src/aliyun/signer';
import { waitFor } from '../../src/emulator/testing';
import { SMALL, startStack, type Stack, type WorkerProcess } from '../harness/stack';

/**
 * Secrets live only in the worker's environment: the AccessKey secret and the STS token must
 * appear nowhere in workflow history (events, payloads decoded) or in the worker's logs, even
 * when the API echoes them in an error message (as SignatureDoesNotMatch echoes StringToSign).
 */
const SECRET = SMALL.secret;
// The emulator accepts any STS token with a known AccessKey pair.
const TOKEN = `CAIS${randomBytes(24).toString('base64url')}STS`;

/** Every form a value might be leaked in. */
function forms(v: string): string[] {
  return [
    v,
    percentEncode(v),
    percentEncode(percentEncode(v)),
    encodeURIComponent(v),
    Buffer.from(v).toString('base64'),
  ];
}

/** All `data` fields of a JSON history (payloads, base64), decoded. */
function decodedPayloads(json: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'data' && typeof x === 'string') out.push(Buffer.from(x, 'base64').toString('utf8'));
        else walk(x);
      }
    }
  };
  walk(JSON.parse(json));
  return out;
}

describe('secrets never leave the worker environment', () => {
  let stack: Stack;
  let child: ChildProcess | undefined;
  let worker: WorkerProcess | undefined;
  const logs = () => worker?.output() ?? '';

  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
    worker = await stack.spawnWorker({
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
      ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN,
      // The most talkative settings: every API call and every SDK debug line is logged.
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'DEBUG',
      METRICS_PORT: '',
    });
    child = worker.child;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await stack?.close();
  });

  it('keeps the AccessKey secret and STS token out of history and logs, also when the API echoes them', async () => {
    // What Alibaba Cloud really does on a bad signature: it echoes the string it signed, which
    // carries the SecurityToken (percent-encoded twice). Here the echo also quotes the secret.
    const echo = (what: string) =>
      `${what}. server string to sign is:POST&%2F&AccessKeyId%3D${SMALL.keyId}` +
      `%26SecurityToken%3D${percentEncode(percentEncode(TOKEN))}%26Signature... token=${TOKEN} secret=${SECRET}`;

    // Run 1: a throttled RemoveInstances (retried), then success.
    const ids = (await stack.instanceIds()).slice(0, 4);
    await stack.admin.setFaults([
      {
        action: 'RemoveInstances',
        kind: 'Throttling',
        times: 1,
        message: echo('Request was denied due to request throttling'),
      },
    ]);
    const first = await stack.client.start(stack.input(ids, { batchSize: 2 }));
    const result = await stack.client.result(first.workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.counts.removed).toBe(4);
    const firstHistory = historyToJSON(await stack.client.handle(first.workflowId).fetchHistory());

    // Run 2: the signature is refused with the echo; the run fails and records the error.
    await stack.admin.setFaults([
      {
        action: 'DescribeScalingGroups',
        kind: 'errorCode',
        code: 'SignatureDoesNotMatch',
        httpStatus: 400,
        message: echo('Specified signature is not matched with our calculation'),
      },
    ]);
    const next = (await stack.instanceIds()).slice(0, 2);
    const second = await stack.client.start(stack.input(next));
    await stack.client.result(second.workflowId).catch((e: unknown) => e);
    const handle = stack.client.handle(second.workflowId);
    await waitFor(async () => (await handle.describe()).status.name !== 'RUNNING', 30_000, 200);
    const secondHistory = historyToJSON(await handle.fetchHistory());

    // The worker really used the token and really met the echoed errors.
    const calls = await stack.admin.calls({ action: 'DescribeScalingGroups' });
    expect(calls.every((c) => 'SecurityToken' in c.params)).toBe(true);
    const everything = [
      firstHistory,
      secondHistory,
      ...decodedPayloads(firstHistory),
      ...decodedPayloads(secondHistory),
    ].join('\n');
    expect(everything).toContain('SignatureDoesNotMatch');
    expect(everything).toMatch(/server string to sign is:POST&%2F&AccessKeyId%3D\*\*\*%26SecurityToken%3D\*\*\*/);
    // Log lines arrive through a pipe (and the SDK's log buffer): wait for the last run's.
    await waitFor(() => /"code":"SignatureDoesNotMatch"/.test(logs()), 10_000, 100).catch(() => undefined);
    expect(logs()).toMatch(/"code":"SignatureDoesNotMatch"/);
    expect(logs()).toMatch(/"code":"Throttling"/);
    // The echoed message itself reached the logs (the SDK logs the activity failure): redacted, not dropped.
    expect(logs()).toMatch(/server string to sign is:POST&%2F&AccessKeyId%3D\*\*\*%26SecurityToken%3D\*\*\*/);
    expect(logs()).toMatch(/"level":"debug","msg":"DescribeScalingActivities ok"/);

    // And nowhere, in any form: history JSON, decoded payloads, worker logs.
    const haystacks: Record<string, string> = {
      'history, run 1': firstHistory,
      'history, run 2': secondHistory,
      'decoded payloads': decodedPayloads(firstHistory).concat(decodedPayloads(secondHistory)).join('\n'),
      'worker logs': logs(),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [name, value] of [
        ['AccessKey secret', SECRET],
        ['STS token', TOKEN],
      ] as const) {
        for (const f of forms(value))
          expect(text.includes(f), `${name} (${f === value ? 'raw' : 'encoded'}) found in ${where}`).toBe(false);
      }
    }
    expect(
      logs()
        .split('\n')
        .filter((l) => l.startsWith('{')).length,
    ).toBeGreaterThan(20);
  });
});
