import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createCloudClient, staticCredentials } from '../../src/aliyun';
import { EmulatorAdminClient, startEmulator } from '../../src/emulator';
import type { RunningEmulator, Scenario } from '../../src/emulator';
import { runEmulatorCli } from '../../src/emulator/main';
import {
  TEST_GROUP,
  TEST_KEY,
  TEST_LB,
  TEST_REGION,
  buildTestScenario,
  rawCall,
  testInstanceId,
  waitFor,
} from '../../src/emulator/testing';

const ECS_ID = /^i-[a-z0-9]{20}$/;

let emu: RunningEmulator;
let admin: EmulatorAdminClient;

const ess = (action: string, extra: Record<string, string> = {}) =>
  rawCall(emu.url, { Action: action, Version: '2014-08-28', RegionId: TEST_REGION, ...extra }, TEST_KEY);

beforeAll(async () => {
  emu = await startEmulator({ scenario: buildTestScenario({ count: 120 }) });
  admin = new EmulatorAdminClient(emu.url);
});

afterAll(async () => {
  await emu.close();
});

beforeEach(async () => {
  await admin.loadScenario(buildTestScenario({ count: 120 }));
});

describe('paging', () => {
  it('DescribeScalingInstances: 120 instances at PageSize 50 are 3 pages with TotalCount 120', async () => {
    const pages = [];
    for (let n = 1; n <= 4; n++)
      pages.push(
        (await ess('DescribeScalingInstances', { ScalingGroupId: TEST_GROUP, PageSize: '50', PageNumber: String(n) }))
          .json,
      );
    expect(pages.map((p) => p.ScalingInstances.ScalingInstance.length)).toEqual([50, 50, 20, 0]);
    expect(pages.map((p) => [p.TotalCount, p.PageNumber, p.PageSize])).toEqual([
      [120, 1, 50],
      [120, 2, 50],
      [120, 3, 50],
      [120, 4, 50],
    ]);
    const ids = pages.flatMap((p) =>
      p.ScalingInstances.ScalingInstance.map((i: { InstanceId: string }) => i.InstanceId),
    );
    expect(new Set(ids).size).toBe(120);
    expect(ids.every((id) => ECS_ID.test(id))).toBe(true);
    // Default PageSize is 10.
    expect(
      (await ess('DescribeScalingInstances', { ScalingGroupId: TEST_GROUP })).json.ScalingInstances.ScalingInstance,
    ).toHaveLength(10);
    // The typed client walks all pages.
    const client = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
      endpoints: { ess: emu.url },
    });
    try {
      const all = await client.ess.describeScalingInstances({ regionId: TEST_REGION, scalingGroupId: TEST_GROUP });
      expect(all.instances).toHaveLength(120);
      expect(all.requestIds).toHaveLength(3);
    } finally {
      await client.close();
    }
  });

  it('filters: InstanceId.N (unknown IDs ignored, at most 20), LifecycleState, CreationType', async () => {
    const r = await ess('DescribeScalingInstances', {
      'InstanceId.1': testInstanceId(3),
      'InstanceId.2': 'i-bp1nosuchinstance001',
    });
    expect(r.json.TotalCount).toBe(1);
    const tooMany: Record<string, string> = {};
    for (let i = 1; i <= 21; i++) tooMany[`InstanceId.${i}`] = testInstanceId(i);
    expect((await ess('DescribeScalingInstances', tooMany)).json.Code).toBe('InvalidParameter');
    await admin.setInstanceState(testInstanceId(7), 'Protected');
    const prot = await ess('DescribeScalingInstances', { ScalingGroupId: TEST_GROUP, LifecycleState: 'Protected' });
    expect(prot.json.ScalingInstances.ScalingInstance.map((i: { InstanceId: string }) => i.InstanceId)).toEqual([
      testInstanceId(7),
    ]);
    expect(
      (await ess('DescribeScalingInstances', { ScalingGroupId: TEST_GROUP, CreationType: 'Attached' })).json.TotalCount,
    ).toBe(0);
    expect((await ess('DescribeScalingInstances', { LifecycleState: 'Sleeping' })).json.Code).toBe('InvalidParameter');
  });

  it('DescribeScalingGroups pages and leaves unknown IDs out', async () => {
    const s = buildTestScenario({ count: 1 });
    for (let i = 2; i <= 3; i++)
      s.scalingGroups?.push({ id: `asg-bp1test000000000000${i}`, name: `g${i}`, regionId: TEST_REGION });
    await admin.loadScenario(s);
    const p1 = (await ess('DescribeScalingGroups', { PageSize: '2' })).json;
    const p2 = (await ess('DescribeScalingGroups', { PageSize: '2', PageNumber: '2' })).json;
    expect([p1.TotalCount, p1.ScalingGroups.ScalingGroup.length, p2.ScalingGroups.ScalingGroup.length]).toEqual([
      3, 2, 1,
    ]);
    const byId = (
      await ess('DescribeScalingGroups', { 'ScalingGroupId.1': TEST_GROUP, 'ScalingGroupId.2': 'asg-nothere' })
    ).json;
    expect(byId.ScalingGroups.ScalingGroup.map((g: { ScalingGroupId: string }) => g.ScalingGroupId)).toEqual([
      TEST_GROUP,
    ]);
    const g = byId.ScalingGroups.ScalingGroup[0];
    expect(g).toMatchObject({
      LifecycleState: 'Active',
      MinSize: 1,
      TotalCapacity: 1,
      ScalingPolicy: 'release',
      LoadBalancerIds: { LoadBalancerId: [TEST_LB] },
      VServerGroups: {
        VServerGroup: [
          {
            LoadBalancerId: TEST_LB,
            VServerGroupAttributes: {
              VServerGroupAttribute: [{ VServerGroupId: 'rsp-bp1test0001', Port: 8080, Weight: 100 }],
            },
          },
        ],
      },
      AlbServerGroups: { AlbServerGroup: [{ AlbServerGroupId: 'sgp-bp1test00000000001', Port: 8080, Weight: 100 }] },
      DBInstanceIds: { DBInstanceId: ['rm-bp1test000000000001'] },
    });
    expect(g.CreationTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    // Other regions see nothing; an unknown region is refused.
    expect((await ess('DescribeScalingGroups', { RegionId: 'cn-beijing' })).json.Code).toBe('InvalidRegionId.NotFound');
  });

  it('DescribeScalingActivities: by group, newest first, StatusCode filter, ID limits', async () => {
    await admin.settings({ timings: { activityDurationMs: 30, essDrainWaitMs: 10 } });
    const client = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
      endpoints: { ess: emu.url },
    });
    const ids: string[] = [];
    try {
      for (let i = 1; i <= 3; i++) {
        const r = await client.ess.removeInstances({
          regionId: TEST_REGION,
          scalingGroupId: TEST_GROUP,
          instanceIds: [testInstanceId(i)],
        });
        ids.push(r.scalingActivityId);
        await waitFor(
          async () =>
            (await client.ess.describeScalingActivities(TEST_REGION, [r.scalingActivityId])).activities[0]
              ?.statusCode === 'Successful',
        );
      }
    } finally {
      await client.close();
    }
    const all = (await ess('DescribeScalingActivities', { ScalingGroupId: TEST_GROUP, PageSize: '2' })).json;
    expect(all.TotalCount).toBe(3);
    expect(
      all.ScalingActivities.ScalingActivity.map((a: { ScalingActivityId: string }) => a.ScalingActivityId),
    ).toEqual([ids[2], ids[1]]);
    expect(
      (await ess('DescribeScalingActivities', { ScalingGroupId: TEST_GROUP, StatusCode: 'Failed' })).json.TotalCount,
    ).toBe(0);
    expect((await ess('DescribeScalingActivities')).json.Code).toBe('MissingParameter');
    const tooMany: Record<string, string> = {};
    for (let i = 1; i <= 21; i++) tooMany[`ScalingActivityId.${i}`] = `asa-${i}`;
    expect((await ess('DescribeScalingActivities', tooMany)).json.Code).toBe('InvalidParameter');
  });
});

describe('scenarios', () => {
  it('generators produce real-looking, deterministic IDs and register them as backends', async () => {
    const st = await admin.state();
    expect(st.instances).toHaveLength(120);
    expect(st.instances[0]?.instanceId).toBe('i-bp1test0000000000001');
    // The 36th: counter 36 is "10" in base 36.
    expect(st.instances[35]?.instanceId).toBe('i-bp1test0000000000010');
    expect(st.instances.every((i) => ECS_ID.test(i.instanceId))).toBe(true);
    expect(st.instances[1]?.creationTime).toBe('2026-01-05T02:01:00.000Z');
    const lb = st.loadBalancers[0];
    expect(lb?.backendServers).toHaveLength(120);
    expect(lb?.vServerGroups[0]?.backendServers).toHaveLength(120);
    expect(st.albServerGroups[0]?.servers).toHaveLength(120);
  });

  it('10,000 instances need no giant file and load fast', async () => {
    const t0 = Date.now();
    await admin.loadScenario(buildTestScenario({ count: 10_000 }));
    expect(Date.now() - t0).toBeLessThan(3_000);
    const r = await ess('DescribeScalingInstances', { ScalingGroupId: TEST_GROUP, PageSize: '50', PageNumber: '200' });
    expect(r.json.TotalCount).toBe(10_000);
    expect(r.json.ScalingInstances.ScalingInstance).toHaveLength(50);
    expect(r.json.ScalingInstances.ScalingInstance[49].InstanceId).toBe(
      `i-bp1test${(10_000).toString(36).padStart(13, '0')}`,
    );
  });

  it('invalid scenarios are refused with the offending path', async () => {
    const badId = buildTestScenario();
    badId.instances = [{ id: 'i-123', scalingGroupId: TEST_GROUP }];
    await expect(admin.loadScenario(badId)).rejects.toThrow(/instances\[0\]\.id.*not an ECS instance ID/);
    const badRef = buildTestScenario();
    badRef.scalingGroups![0]!.loadBalancerIds = ['lb-missing'];
    await expect(admin.loadScenario(badRef)).rejects.toThrow(/unknown load balancer "lb-missing"/);
    const dup = buildTestScenario();
    dup.instances = [{ id: testInstanceId(1), scalingGroupId: TEST_GROUP }];
    await expect(admin.loadScenario(dup)).rejects.toThrow(/duplicate ID "i-bp1test0000000000001"/);
    // The previous state is untouched.
    expect((await admin.state()).instances).toHaveLength(120);
  });

  it('built-ins: demo and small, by name through the admin API and at start', async () => {
    const demo = await startEmulator({ scenario: 'demo' });
    try {
      const r = await rawCall(
        demo.url,
        { Action: 'DescribeScalingGroups', Version: '2014-08-28', RegionId: 'cn-hangzhou' },
        { accessKeyId: 'LTAIdemoEmulatorKey01', accessKeySecret: 'demo-emulator-secret-not-real' },
      );
      expect(r.json.ScalingGroups.ScalingGroup[0]).toMatchObject({
        ScalingGroupId: 'asg-bp1demo0000000000001',
        MinSize: 2,
        TotalCapacity: 60,
      });
      const st = demo.state.snapshot();
      expect(st.instances.every((i) => ECS_ID.test(i.instanceId))).toBe(true);
      expect(st.loadBalancers.map((l) => l.loadBalancerId)).toEqual(['lb-bp1demo00000000000001']);
      expect(st.loadBalancers[0]?.backendServers.every((b) => b.weight === 100)).toBe(true);
      const demoAdmin = new EmulatorAdminClient(demo.url);
      await demoAdmin.loadScenario({ name: 'small' });
      expect((await demoAdmin.state()).groups[0]).toMatchObject({
        scalingGroupId: 'asg-bp1small000000000001',
        minSize: 1,
        totalCapacity: 30,
      });
    } finally {
      await demo.close();
    }
  });

  it('a scenario can come from a JSON file path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-scenario-'));
    const file = join(dir, 'tiny.json');
    const s: Scenario = buildTestScenario({ count: 3 });
    s.name = 'from-file';
    writeFileSync(file, JSON.stringify(s));
    const e2 = await startEmulator({ scenario: file });
    try {
      expect(e2.state.snapshot()).toMatchObject({ scenarioName: 'from-file' });
      expect(e2.state.scalingGroups.instanceCount()).toBe(3);
    } finally {
      await e2.close();
    }
  });

  it('reset restores the initial state of the current scenario', async () => {
    const client = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
      endpoints: { ess: emu.url },
    });
    try {
      await client.ess.enterStandby(TEST_REGION, TEST_GROUP, [testInstanceId(1)]);
    } finally {
      await client.close();
    }
    expect((await admin.state()).groups[0]?.standbyCapacity).toBe(1);
    await admin.reset();
    const st = await admin.state();
    expect(st.groups[0]?.standbyCapacity).toBe(0);
    expect(await admin.calls()).toHaveLength(0);
  });

  it('timeScale multiplies every duration', async () => {
    const fast = await startEmulator({
      scenario: buildTestScenario({
        timings: { activityDurationMs: 2_000, essDrainWaitMs: 1_000, albJobDurationMs: 1_000 },
      }),
      timeScale: 0.05,
    });
    const client = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
      endpoints: { ess: fast.url },
    });
    try {
      const t0 = Date.now();
      const r = await client.ess.removeInstances({
        regionId: TEST_REGION,
        scalingGroupId: TEST_GROUP,
        instanceIds: [testInstanceId(1)],
      });
      await waitFor(
        async () =>
          (await client.ess.describeScalingActivities(TEST_REGION, [r.scalingActivityId])).activities[0]?.statusCode ===
          'Successful',
      );
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(90);
      expect(elapsed).toBeLessThan(1_000);
    } finally {
      await client.close();
      await fast.close();
    }
  });
});

describe('CLI', () => {
  it('prints the URL and env lines (never the secret) and stops on signal', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const ac = new AbortController();
    const done = runEmulatorCli(['--port', '0', '--scenario', 'small'], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      signal: ac.signal,
    });
    const url = await waitFor(
      () => out.find((l) => l.includes('listening on'))?.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0],
    );
    const health = await fetch(`${url}/__emulator/health`);
    expect(await health.json()).toMatchObject({ ok: true, scenario: 'small' });
    ac.abort();
    expect(await done).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`export ESS_ENDPOINT=${url}`);
    expect(text).toContain(`export SLB_ENDPOINT=${url}`);
    expect(text).toContain(`export ALB_ENDPOINT=${url}`);
    expect(text).toContain('export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIsmallEmulatorKey1');
    expect(text).toContain('src/emulator/scenarios/small.json');
    expect(text).not.toContain('small-emulator-secret-not-real');
    expect(err).toEqual([]);
    await expect(fetch(`${url}/__emulator/health`)).rejects.toThrow();
  });

  it('--access-key replaces the scenario keys; bad flags exit 2', async () => {
    const out: string[] = [];
    const ac = new AbortController();
    const done = runEmulatorCli(['emulator', '--port=0', '--scenario', 'small', '--access-key', 'LTAIcli:cli-secret'], {
      out: (l) => out.push(l),
      err: () => undefined,
      signal: ac.signal,
    });
    const url = await waitFor(
      () => out.find((l) => l.includes('listening on'))?.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0],
    );
    const ok = await rawCall(
      url,
      { Action: 'DescribeScalingGroups', Version: '2014-08-28', RegionId: 'cn-hangzhou' },
      { accessKeyId: 'LTAIcli', accessKeySecret: 'cli-secret' },
    );
    expect(ok.status).toBe(200);
    ac.abort();
    expect(await done).toBe(0);
    expect(out.join('\n')).not.toContain('cli-secret');
    expect(out.join('\n')).toContain('--access-key');
    const errs: string[] = [];
    expect(await runEmulatorCli(['--bogus'], { out: () => undefined, err: (l) => errs.push(l) })).toBe(2);
    expect(errs[0]).toContain('unknown argument --bogus');
  });
});
