import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createCloudClient, staticCredentials } from '../../src/aliyun';
import { startContractEnv, stopContractEnv } from './harness';
import type { ClosableCloudClient } from '../../src/aliyun';
import { AliyunApiError, AliyunNetworkError } from '../../src/aliyun/errors';
import { startEmulator, type EmulatorAdminClient } from '../../src/emulator';
import type { RunningEmulator } from '../../src/emulator';
import {
  TEST_GROUP,
  TEST_KEY,
  TEST_REGION,
  buildTestScenario,
  rawCall,
  testInstanceId,
  waitFor,
} from '../../src/emulator/testing';

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

const describeGroups = { Action: 'DescribeScalingGroups', Version: '2014-08-28', RegionId: TEST_REGION };

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  ({ emu, admin, client } = await startContractEnv({
    timings: { activityDurationMs: 150, essDrainWaitMs: 50, albJobDurationMs: 50 },
  }));
});

afterAll(async () => {
  await stopContractEnv({ emu, client });
});

beforeEach(async () => {
  await admin.reset();
});

describe('error faults', () => {
  it('Throttling: 400 with the documented message (and x-acs-retry-after when asked)', async () => {
    await admin.setFaults([{ action: 'DescribeScalingGroups', kind: 'Throttling', retryAfterMs: 1500, times: 1 }]);
    const r = await rawCall(emu.url, describeGroups, TEST_KEY);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ Code: 'Throttling', Message: 'Request was denied due to request throttling.' });
    expect(r.headers.get('x-acs-retry-after')).toBe('1500');
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(200);
  });

  it('Throttling.User, InternalError 500 and ServiceUnavailable 503 reach the client as typed errors', async () => {
    const cases: Array<[string, number, string]> = [
      ['Throttling.User', 400, 'Request was denied due to user flow control.'],
      ['InternalError', 500, 'The request processing has failed due to some unknown error, exception or failure.'],
      ['ServiceUnavailable', 503, 'The request has failed due to a temporary failure of the server.'],
    ];
    for (const [kind, status, message] of cases) {
      await admin.setFaults([{ action: 'RemoveInstances', kind: kind as 'InternalError', times: 1 }]);
      const e = await failure(
        client.ess.removeInstances({
          regionId: TEST_REGION,
          scalingGroupId: TEST_GROUP,
          instanceIds: [testInstanceId(1)],
        }),
      );
      expect(e).toBeInstanceOf(AliyunApiError);
      expect([(e as AliyunApiError).code, (e as AliyunApiError).httpStatus, (e as AliyunApiError).apiMessage]).toEqual([
        kind,
        status,
        message,
      ]);
    }
    // None of them took effect.
    expect((await admin.state()).activities).toHaveLength(0);
  });

  it('errorCode answers any code with any status', async () => {
    await admin.setFaults([
      {
        action: 'DescribeScalingGroups',
        kind: 'errorCode',
        code: 'Forbidden.RiskControl',
        httpStatus: 403,
        message: 'risk',
        times: 1,
      },
    ]);
    const r = await rawCall(emu.url, describeGroups, TEST_KEY);
    expect([r.status, r.json.Code, r.json.Message]).toEqual([403, 'Forbidden.RiskControl', 'risk']);
  });
});

describe('connection faults', () => {
  it('reset: the socket is destroyed before any effect', async () => {
    await admin.setFaults([{ action: 'RemoveInstances', kind: 'reset', times: 1 }]);
    const e = await failure(
      client.ess.removeInstances({
        regionId: TEST_REGION,
        scalingGroupId: TEST_GROUP,
        instanceIds: [testInstanceId(1)],
        clientToken: 'rst',
      }),
    );
    expect(e).toBeInstanceOf(AliyunNetworkError);
    const st = await admin.state();
    expect(st.activities).toHaveLength(0);
    expect(st.instances.find((i) => i.instanceId === testInstanceId(1))?.lifecycleState).toBe('InService');
    const [entry] = await admin.calls({ action: 'RemoveInstances' });
    expect(entry).toMatchObject({ outcome: 'reset', delivered: false, httpStatus: 0, fault: 'reset' });
    expect(entry?.createdActivityId).toBeUndefined();
  });

  it('commitThenDrop: the activity exists, the client saw a dead socket; a ClientToken retry finds it', async () => {
    await admin.setFaults([{ action: 'RemoveInstances', kind: 'commitThenDrop', times: 1 }]);
    const req = {
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [testInstanceId(1), testInstanceId(2)],
      clientToken: 'ctd-1',
    };
    const e = await failure(client.ess.removeInstances(req));
    expect(e).toBeInstanceOf(AliyunNetworkError);
    expect((e as AliyunNetworkError).ambiguous).toBe(true);
    const st = await admin.state();
    expect(st.activities).toHaveLength(1);
    const committed = st.activities[0]?.scalingActivityId;
    const [entry] = await admin.calls({ action: 'RemoveInstances' });
    expect(entry).toMatchObject({
      outcome: 'ok',
      delivered: false,
      fault: 'commitThenDrop',
      createdActivityId: committed,
    });
    const retry = await client.ess.removeInstances(req);
    expect(retry.scalingActivityId).toBe(committed);
  });

  it('latency delays the answer', async () => {
    await admin.setFaults([{ action: 'DescribeScalingGroups', kind: 'latency', latencyMs: 150, times: 1 }]);
    const t0 = Date.now();
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const [entry] = await admin.calls({ action: 'DescribeScalingGroups' });
    expect(entry?.fault).toBe('latency');
    expect(entry?.durationMs).toBeGreaterThanOrEqual(140);
  });
});

describe('rule semantics', () => {
  it('times: only the next N matching calls; other actions are not affected', async () => {
    await admin.setFaults([{ action: 'DescribeScalingGroups', kind: 'InternalError', times: 2 }]);
    expect((await rawCall(emu.url, { ...describeGroups, Action: 'DescribeScalingInstances' }, TEST_KEY)).status).toBe(
      200,
    );
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await rawCall(emu.url, describeGroups, TEST_KEY)).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(await admin.faults()).toEqual([expect.objectContaining({ hits: 2, remaining: 0 })]);
  });

  it('params: only calls whose parameters include each value; others are neither faulted nor counted', async () => {
    const other = { ...describeGroups, ScalingGroupId: 'asg-someoneelse' };
    const mine = { ...describeGroups, ScalingGroupId: TEST_GROUP };
    await admin.setFaults([
      { action: 'DescribeScalingGroups', kind: 'InternalError', params: { ScalingGroupId: TEST_GROUP }, times: 1 },
    ]);
    expect((await rawCall(emu.url, other, TEST_KEY)).status).toBe(200);
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(200);
    expect(await admin.faults()).toEqual([expect.objectContaining({ hits: 0, remaining: 1 })]);
    expect((await rawCall(emu.url, mine, TEST_KEY)).status).toBe(500);
    expect((await rawCall(emu.url, mine, TEST_KEY)).status).toBe(200);
    await expect(admin.setFaults([{ action: '*', kind: 'reset', params: { A: 1 } as never }])).rejects.toThrow(
      /params must be an object of parameter names to string values/,
    );
  });

  it("'*' matches every API call", async () => {
    await admin.setFaults([{ action: '*', kind: 'ServiceUnavailable', times: 2 }]);
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(503);
    expect((await rawCall(emu.url, { Action: 'ListAsynJobs', Version: '2020-06-16' }, TEST_KEY)).status).toBe(503);
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(200);
  });

  it('rate: a seeded PRNG hits a fraction of calls, identically for the same seed', async () => {
    const run = async (): Promise<number[]> => {
      await admin.setFaults([{ action: 'DescribeScalingGroups', kind: 'Throttling', rate: 0.3 }], 7);
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await rawCall(emu.url, describeGroups, TEST_KEY)).status);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const hits = a.filter((s) => s === 400).length;
    expect(hits).toBeGreaterThan(3);
    expect(hits).toBeLessThan(25);
  });

  it('rate + times: at most N hits in total', async () => {
    await admin.setFaults([{ action: 'DescribeScalingGroups', kind: 'InternalError', rate: 0.5, times: 3 }], 1);
    let fails = 0;
    for (let i = 0; i < 30; i++) if ((await rawCall(emu.url, describeGroups, TEST_KEY)).status === 500) fails++;
    expect(fails).toBe(3);
  });

  it('clearFaults removes every rule; bad rules are refused', async () => {
    await admin.setFaults([{ action: '*', kind: 'InternalError' }]);
    await admin.clearFaults();
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(200);
    await expect(admin.setFaults([{ action: '*', kind: 'errorCode' }])).rejects.toThrow(/code is required/);
    await expect(admin.setFaults([{ action: '*', kind: 'Throttling', rate: 2 }])).rejects.toThrow(/rate/);
  });
});

describe('call log and secrets', () => {
  it('logs every call with redacted credentials; no secret anywhere in the log, state or answers', async () => {
    const sts = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret, 'sts-token-value-not-real'),
      endpoints: { ess: emu.url, slb: emu.url, alb: emu.url },
    });
    const answers: string[] = [];
    try {
      const r = await sts.ess.removeInstances({
        regionId: TEST_REGION,
        scalingGroupId: TEST_GROUP,
        instanceIds: [testInstanceId(1)],
        clientToken: 'log-1',
      });
      answers.push(JSON.stringify(r));
      answers.push(JSON.stringify(await sts.ess.describeScalingActivities(TEST_REGION, [r.scalingActivityId])));
      await waitFor(async () => (await admin.state()).activities[0]?.statusCode === 'Successful');
    } finally {
      await sts.close();
    }
    answers.push(
      (await rawCall(emu.url, describeGroups, { accessKeyId: TEST_KEY.accessKeyId, accessKeySecret: 'wrong' })).text,
    );
    answers.push((await rawCall(emu.url, describeGroups, TEST_KEY)).text);

    const calls = await admin.calls();
    expect(calls.map((c) => [c.action, c.outcome])).toEqual([
      ['RemoveInstances', 'ok'],
      ['DescribeScalingActivities', 'ok'],
      ['DescribeScalingGroups', 'SignatureDoesNotMatch'],
      ['DescribeScalingGroups', 'ok'],
    ]);
    const remove = calls[0];
    expect(remove).toMatchObject({
      version: '2014-08-28',
      product: 'ess',
      httpStatus: 200,
      delivered: true,
      method: 'POST',
    });
    expect(remove?.createdActivityId).toMatch(/^asa-/);
    expect(remove?.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(remove?.params).toMatchObject({
      Signature: '***',
      AccessKeyId: '***',
      SecurityToken: '***',
      ScalingGroupId: TEST_GROUP,
      ClientToken: 'log-1',
      'InstanceId.1': testInstanceId(1),
    });
    expect((await admin.calls({ action: 'RemoveInstances' })).map((c) => c.seq)).toEqual([remove?.seq]);
    expect((await admin.calls({ sinceSeq: calls[2]?.seq })).length).toBe(1);

    const everything = [
      JSON.stringify(calls),
      JSON.stringify(await admin.state()),
      JSON.stringify(await admin.faults()),
      ...answers,
    ].join('\n');
    for (const secret of [TEST_KEY.accessKeySecret, 'sts-token-value-not-real'])
      expect(everything).not.toContain(secret);
    expect(JSON.stringify(calls)).not.toContain(TEST_KEY.accessKeyId);
  });

  it('the emulator logs nothing unless asked, and its log lines carry no secret', async () => {
    const lines: string[] = [];
    const e2 = await startEmulator({ scenario: buildTestScenario(), log: (l) => lines.push(l) });
    try {
      await rawCall(e2.url, describeGroups, TEST_KEY);
      await rawCall(e2.url, describeGroups, { accessKeyId: TEST_KEY.accessKeyId, accessKeySecret: 'wrong' });
    } finally {
      await e2.close();
    }
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('SignatureDoesNotMatch');
    expect(lines.join('\n')).not.toContain(TEST_KEY.accessKeySecret);
    expect(lines.join('\n')).not.toContain(TEST_KEY.accessKeyId);
  });
});
