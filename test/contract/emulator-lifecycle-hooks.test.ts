/**
 * Scale-in lifecycle hooks in the emulator, through the project's client (and rawCall for the hook
 * operations the product does not send). The emulator runs at time scale 0.01: a 30 s hook times
 * out after 300 ms, and the activity timings below are 200 ms / 50 ms of real time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createCloudClient, staticCredentials, type ClosableCloudClient } from '../../src/aliyun';
import type { LifecycleAction, ScalingActivity } from '../../src/aliyun';
import { AliyunApiError } from '../../src/aliyun/errors';
import { EmulatorAdminClient, startEmulator, type RunningEmulator } from '../../src/emulator';
import type { Scenario, ScenarioLifecycleHook } from '../../src/emulator';
import {
  TEST_ALB,
  TEST_GROUP,
  TEST_KEY,
  TEST_LB,
  TEST_REGION,
  TEST_VSG,
  buildTestScenario,
  rawCall,
  testInstanceId,
  waitFor,
} from '../../src/emulator/testing';

const TIME_SCALE = 0.01;
/** Scaled by TIME_SCALE: activity 200 ms, drain 50 ms. */
const TIMINGS = { activityDurationMs: 20_000, essDrainWaitMs: 5_000, albJobDurationMs: 5_000 };
/** Seconds that outlast any test (60 s of real time) or time out fast (300 ms). */
const LONG = 6000;
const SHORT = 30;
const HOOK_A = 'ash-bp1hooka00000000000a';
const HOOK_B = 'ash-bp1hookb00000000000b';
const HOOK_C = 'ash-bp1hookc00000000000c';
const I1 = testInstanceId(1);
const I2 = testInstanceId(2);

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

function scenario(hooks: ScenarioLifecycleHook[] = []): Scenario {
  const s = buildTestScenario({ count: 10, timings: TIMINGS });
  const group = s.scalingGroups?.[0];
  if (group) group.lifecycleHooks = hooks;
  return s;
}

function hook(id: string, heartbeatTimeout: number, defaultResult = 'CONTINUE'): ScenarioLifecycleHook {
  return { id, name: `${id.slice(-1)}-hook`, lifecycleTransition: 'SCALE_IN', heartbeatTimeout, defaultResult };
}

async function load(hooks: ScenarioLifecycleHook[] = []): Promise<void> {
  await admin.loadScenario(scenario(hooks));
}

function ess(action: string, params: Record<string, string> = {}) {
  return rawCall(emu.url, { Action: action, Version: '2014-08-28', RegionId: TEST_REGION, ...params }, TEST_KEY);
}

async function expectRawError(p: ReturnType<typeof ess>, code: string, status = 400): Promise<void> {
  const r = await p;
  expect(r.json?.Code, r.text).toBe(code);
  expect(r.status).toBe(status);
}

async function expectApiError(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AliyunApiError);
  expect((err as AliyunApiError).code).toBe(code);
}

async function remove(ids: string[], ctx?: { disableLifecycleHook?: boolean; ignoredLifecycleHookIds?: string[] }) {
  const r = await client.ess.removeInstances({
    regionId: TEST_REGION,
    scalingGroupId: TEST_GROUP,
    instanceIds: ids,
    lifecycleHookContext: ctx,
  });
  return r.scalingActivityId;
}

async function activity(id: string): Promise<ScalingActivity> {
  const a = (await client.ess.describeScalingActivities(TEST_REGION, [id])).activities[0];
  if (!a) throw new Error(`activity ${id} not found`);
  return a;
}

function waitEnded(id: string): Promise<ScalingActivity> {
  return waitFor(async () => {
    const a = await activity(id);
    return a.statusCode !== 'InProgress' ? a : undefined;
  }, 5_000);
}

async function actions(activityId: string): Promise<LifecycleAction[]> {
  return (await client.ess.describeLifecycleActions(TEST_REGION, activityId)).actions;
}

/** Waits until the activity's instances are held by the hooks; returns the actions, one per hook. */
function waitHeld(activityId: string, hooks: number): Promise<LifecycleAction[]> {
  return waitFor(async () => {
    const list = await actions(activityId);
    return list.length === hooks ? list : undefined;
  }, 5_000);
}

function actionOf(list: LifecycleAction[], hookId: string): LifecycleAction {
  const a = list.find((x) => x.lifecycleHookId === hookId);
  if (!a) throw new Error(`no action of ${hookId}`);
  return a;
}

async function lifecycleStates(ids: string[]): Promise<Record<string, string>> {
  const r = await client.ess.describeScalingInstances({
    regionId: TEST_REGION,
    scalingGroupId: TEST_GROUP,
    instanceIds: ids,
  });
  return Object.fromEntries(r.instances.map((i) => [i.instanceId, i.lifecycleState]));
}

/** The instance's weight in the CLB default group, the vserver group and the ALB group (undefined = not there). */
async function weights(id: string): Promise<Array<number | undefined>> {
  const st = await admin.state();
  const lb = st.loadBalancers.find((l) => l.loadBalancerId === TEST_LB);
  const vsg = lb?.vServerGroups.find((v) => v.vServerGroupId === TEST_VSG);
  const alb = st.albServerGroups.find((g) => g.serverGroupId === TEST_ALB);
  return [
    lb?.backendServers.find((b) => b.serverId === id)?.weight,
    vsg?.backendServers.find((b) => b.serverId === id)?.weight,
    alb?.servers.find((s) => s.serverId === id)?.weight,
  ];
}

function complete(hookId: string, token: string, result?: 'CONTINUE' | 'ABANDON' | 'ROLLBACK', clientToken?: string) {
  return client.ess.completeLifecycleAction({
    regionId: TEST_REGION,
    lifecycleHookId: hookId,
    lifecycleActionToken: token,
    lifecycleActionResult: result ?? 'CONTINUE',
    clientToken,
  });
}

beforeAll(async () => {
  emu = await startEmulator({ scenario: scenario(), timeScale: TIME_SCALE });
  admin = new EmulatorAdminClient(emu.url);
  client = createCloudClient({
    credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
    endpoints: { ess: emu.url, slb: emu.url, alb: emu.url },
  });
});

afterAll(async () => {
  await client.close();
  await emu.close();
});

beforeEach(async () => {
  await load();
});

describe('lifecycle hooks: Create / Describe / Modify / Delete', () => {
  it('creates with the documented defaults and lists through the client', async () => {
    const r = await ess('CreateLifecycleHook', { ScalingGroupId: TEST_GROUP, LifecycleTransition: 'SCALE_IN' });
    expect(r.status, r.text).toBe(200);
    const id = r.json.LifecycleHookId as string;
    expect(id).toMatch(/^ash-[a-z0-9]{20}$/);
    const { hooks } = await client.ess.describeLifecycleHooks(TEST_REGION, TEST_GROUP);
    expect(hooks).toEqual([
      {
        lifecycleHookId: id,
        lifecycleHookName: id,
        scalingGroupId: TEST_GROUP,
        lifecycleTransition: 'SCALE_IN',
        heartbeatTimeout: 600,
        defaultResult: 'CONTINUE',
        notificationArn: undefined,
        notificationMetadata: undefined,
        lifecycleHookStatus: 'Active',
      },
    ]);
    const raw = await ess('DescribeLifecycleHooks', { ScalingGroupId: TEST_GROUP });
    expect(raw.json.LifecycleHooks.LifecycleHook[0].NotificationArn).toMatch(/^acs:ess:cn-hangzhou:\d+:null\/null$/);
  });

  it('answers the documented errors for bad parameters, duplicates and the quota of 6', async () => {
    const base = { ScalingGroupId: TEST_GROUP, LifecycleTransition: 'SCALE_IN' };
    await expectRawError(ess('CreateLifecycleHook', { ScalingGroupId: TEST_GROUP }), 'MissingParameter');
    await expectRawError(ess('CreateLifecycleHook', { ...base, LifecycleTransition: 'SCALE' }), 'InvalidParamter');
    await expectRawError(ess('CreateLifecycleHook', { ...base, HeartbeatTimeout: '29' }), 'InvalidParamter');
    await expectRawError(ess('CreateLifecycleHook', { ...base, HeartbeatTimeout: '21601' }), 'InvalidParamter');
    await expectRawError(ess('CreateLifecycleHook', { ...base, DefaultResult: 'STOP' }), 'InvalidParamter');
    await expectRawError(ess('CreateLifecycleHook', { ...base, LifecycleHookName: '-x' }), 'InvalidParamter');
    await expectRawError(ess('CreateLifecycleHook', { ...base, NotificationArn: 'arn:x' }), 'InvalidNotificationArn');
    await expectRawError(
      ess('CreateLifecycleHook', { ...base, ScalingGroupId: 'asg-bp1nothere0000000001' }),
      'InvalidScalingGroupId.NotFound',
      404,
    );
    const arn = 'acs:mns:cn-hangzhou:1234567890123456:queue/cleanup';
    for (let i = 1; i <= 6; i++) {
      const r = await ess('CreateLifecycleHook', { ...base, LifecycleHookName: `h-${i}`, NotificationArn: arn });
      expect(r.status, r.text).toBe(200);
    }
    await expectRawError(
      ess('CreateLifecycleHook', { ...base, LifecycleHookName: 'h-1' }),
      'InvalidLifecycleHookName.Duplicate',
    );
    await expectRawError(
      ess('CreateLifecycleHook', { ...base, LifecycleHookName: 'h-7' }),
      'QuotaExceeded.LifecycleHook',
    );
    const page2 = await ess('DescribeLifecycleHooks', { ScalingGroupId: TEST_GROUP, PageSize: '4', PageNumber: '2' });
    expect(page2.json).toMatchObject({ TotalCount: 6, PageNumber: 2, PageSize: 4 });
    expect(
      page2.json.LifecycleHooks.LifecycleHook.map((h: { LifecycleHookName: string }) => h.LifecycleHookName),
    ).toEqual(['h-5', 'h-6']);
    const { hooks } = await client.ess.describeLifecycleHooks(TEST_REGION, TEST_GROUP);
    expect(hooks.map((h) => h.notificationArn)).toEqual(Array(6).fill(arn));
  });

  it('modifies and deletes by ID or by group + name; unknown ones are NotExist', async () => {
    await load([hook(HOOK_A, LONG)]);
    const mod = await ess('ModifyLifecycleHook', {
      LifecycleHookId: HOOK_A,
      HeartbeatTimeout: '120',
      DefaultResult: 'ROLLBACK',
      LifecycleHookStatus: 'InActive',
    });
    expect(mod.status, mod.text).toBe(200);
    expect((await client.ess.describeLifecycleHooks(TEST_REGION, TEST_GROUP)).hooks[0]).toMatchObject({
      heartbeatTimeout: 120,
      defaultResult: 'ROLLBACK',
      lifecycleHookStatus: 'InActive',
    });
    await expectRawError(
      ess('ModifyLifecycleHook', { LifecycleHookId: 'ash-bp1nothere00000000001', HeartbeatTimeout: '60' }),
      'InvalidLifecycleHookId.NotExist',
    );
    await expectRawError(
      ess('DeleteLifecycleHook', { ScalingGroupId: TEST_GROUP, LifecycleHookName: 'nope' }),
      'InvalidLifecycleHookName.NotExist',
    );
    await expectRawError(
      ess('ModifyLifecycleHook', { LifecycleHookId: HOOK_A, HeartbeatTimeout: '5' }),
      'InvalidParamter',
    );
    const del = await ess('DeleteLifecycleHook', { ScalingGroupId: TEST_GROUP, LifecycleHookName: 'a-hook' });
    expect(del.status, del.text).toBe(200);
    expect((await client.ess.describeLifecycleHooks(TEST_REGION, TEST_GROUP)).hooks).toEqual([]);
  });
});

describe('a RemoveInstances activity on a group with a scale-in hook', () => {
  it('waits in Removing:Wait, deregistered, InProgress, until CompleteLifecycleAction CONTINUE', async () => {
    await load([hook(HOOK_A, LONG)]);
    const id = await remove([I1, I2]);
    const [a] = await waitHeld(id, 1);
    expect(a).toMatchObject({
      lifecycleHookId: HOOK_A,
      lifecycleActionStatus: 'Pending',
      lifecycleActionResult: 'CONTINUE',
      instanceIds: [I1, I2],
    });
    expect(a?.lifecycleActionToken).toMatch(/^[0-9A-F-]{36}$/);
    await new Promise((r) => setTimeout(r, 300)); // past the activity's own duration
    expect((await activity(id)).statusCode).toBe('InProgress');
    expect(await lifecycleStates([I1, I2])).toEqual({ [I1]: 'Removing:Wait', [I2]: 'Removing:Wait' });
    expect(await weights(I1)).toEqual([undefined, undefined, undefined]);
    const groups = await ess('DescribeScalingGroups', { 'ScalingGroupId.1': TEST_GROUP });
    expect(groups.json.ScalingGroups.ScalingGroup[0]).toMatchObject({ RemovingWaitCapacity: 2, RemovingCapacity: 0 });
    await expectApiError(remove([testInstanceId(3)]), 'ScalingActivityInProgress');

    await complete(HOOK_A, a?.lifecycleActionToken ?? '', 'CONTINUE', 'ct-1');
    const ended = await waitEnded(id);
    expect(ended.statusCode).toBe('Successful');
    expect([...(ended.destroyedInstanceIds ?? [])].sort()).toEqual([I1, I2]);
    expect(await actions(id)).toMatchObject([
      { lifecycleActionStatus: 'Completed', lifecycleActionResult: 'CONTINUE' },
    ]);
    // A replay with the same ClientToken answers again; a new completion of an ended action is refused.
    await expect(complete(HOOK_A, a?.lifecycleActionToken ?? '', 'CONTINUE', 'ct-1')).resolves.toBeDefined();
    await expectApiError(
      complete(HOOK_A, a?.lifecycleActionToken ?? ''),
      'LifecycleHookIdAndLifecycleActionToken.Invalid',
    );
    await expectApiError(complete(HOOK_A, 'NOT-A-TOKEN'), 'LifecycleHookIdAndLifecycleActionToken.Invalid');
    await expectApiError(
      complete(HOOK_B, a?.lifecycleActionToken ?? ''),
      'LifecycleHookIdAndLifecycleActionToken.Invalid',
    );
  });

  it('ROLLBACK keeps the instances: previous state, LB registrations and weights back, activity Failed', async () => {
    await load([hook(HOOK_A, LONG)]);
    const id = await remove([I1, I2]);
    const [a] = await waitHeld(id, 1);
    expect(await weights(I1)).toEqual([undefined, undefined, undefined]);
    await complete(HOOK_A, a?.lifecycleActionToken ?? '', 'ROLLBACK');
    const ended = await waitEnded(id);
    expect(ended).toMatchObject({ statusCode: 'Failed', errorCode: 'LifecycleHookRollback' });
    expect(ended.failedInstanceIds.sort()).toEqual([I1, I2]);
    expect(ended.errorMessage).toContain(HOOK_A);
    expect(await lifecycleStates([I1, I2])).toEqual({ [I1]: 'InService', [I2]: 'InService' });
    expect(await weights(I1)).toEqual([100, 100, 100]);
    expect(await weights(I2)).toEqual([100, 100, 100]);
    expect((await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP))?.totalCapacity).toBe(10);
  });

  it.each([
    ['CONTINUE', 'Successful'],
    ['ABANDON', 'Successful'],
    ['ROLLBACK', 'Failed'],
  ] as const)('a timeout applies the DefaultResult %s (activity %s)', async (result, status) => {
    await load([hook(HOOK_A, SHORT, result)]);
    const id = await remove([I1]);
    const ended = await waitEnded(id);
    expect(ended.statusCode).toBe(status);
    expect(await actions(id)).toMatchObject([{ lifecycleActionStatus: 'Timeout', lifecycleActionResult: result }]);
    const gone = (await lifecycleStates([I1]))[I1] === undefined;
    expect(gone).toBe(result !== 'ROLLBACK');
  });
});

describe('several hooks', () => {
  it('with CONTINUE the wait lasts until the last hook is done', async () => {
    await load([hook(HOOK_A, LONG), hook(HOOK_B, LONG)]);
    const id = await remove([I1]);
    const list = await waitHeld(id, 2);
    await complete(HOOK_A, actionOf(list, HOOK_A).lifecycleActionToken, 'CONTINUE');
    await new Promise((r) => setTimeout(r, 300));
    expect((await activity(id)).statusCode).toBe('InProgress');
    expect(actionOf(await actions(id), HOOK_B).lifecycleActionStatus).toBe('Pending');
    await complete(HOOK_B, actionOf(list, HOOK_B).lifecycleActionToken, 'CONTINUE');
    expect((await waitEnded(id)).statusCode).toBe('Successful');
  });

  it.each([
    ['ABANDON', 'Successful'],
    ['ROLLBACK', 'Failed'],
  ] as const)('%s ends the other hooks waits early (activity %s)', async (result, status) => {
    await load([hook(HOOK_A, LONG), hook(HOOK_B, LONG)]);
    const id = await remove([I1]);
    const list = await waitHeld(id, 2);
    await complete(HOOK_A, actionOf(list, HOOK_A).lifecycleActionToken, result);
    expect((await waitEnded(id)).statusCode).toBe(status);
    const after = await actions(id);
    expect(actionOf(after, HOOK_A)).toMatchObject({
      lifecycleActionStatus: 'Completed',
      lifecycleActionResult: result,
    });
    expect(actionOf(after, HOOK_B).lifecycleActionStatus).toBe('Timeout');
    await expectApiError(
      complete(HOOK_B, actionOf(list, HOOK_B).lifecycleActionToken),
      'LifecycleHookIdAndLifecycleActionToken.Invalid',
    );
  });
});

describe('RecordLifecycleActionHeartbeat', () => {
  it('restarts the wait (lowerCamelCase parameters), within 6 hours', async () => {
    await load([hook(HOOK_A, SHORT)]);
    const id = await remove([I1]);
    const [a] = await waitHeld(id, 1);
    const token = a?.lifecycleActionToken ?? '';
    const beat = await ess('RecordLifecycleActionHeartbeat', {
      lifecycleHookId: HOOK_A,
      lifecycleActionToken: token,
      heartbeatTimeout: '90',
    });
    expect(beat.status, beat.text).toBe(200);
    await new Promise((r) => setTimeout(r, 450)); // past the hook's own 300 ms
    expect(actionOf(await actions(id), HOOK_A).lifecycleActionStatus).toBe('Pending');
    await expectRawError(
      ess('RecordLifecycleActionHeartbeat', {
        lifecycleHookId: HOOK_A,
        lifecycleActionToken: token,
        heartbeatTimeout: '21600',
      }),
      'LifecycleAction.TimeExceeded',
    );
    await expectRawError(
      ess('RecordLifecycleActionHeartbeat', {
        lifecycleHookId: HOOK_A,
        lifecycleActionToken: token,
        heartbeatTimeout: '10',
      }),
      'InvalidParamter',
    );
    expect((await waitEnded(id)).statusCode).toBe('Successful');
    expect(actionOf(await actions(id), HOOK_A).lifecycleActionStatus).toBe('Timeout');
    await expectRawError(
      ess('RecordLifecycleActionHeartbeat', { lifecycleHookId: HOOK_A, lifecycleActionToken: token }),
      'LifecycleHookIdAndLifecycleActionToken.Invalid',
    );
  });
});

describe('DescribeLifecycleActions', () => {
  it('pages with MaxResults and NextToken, filters by status, and refuses bad parameters', async () => {
    await load([hook(HOOK_A, LONG), hook(HOOK_B, LONG), hook(HOOK_C, LONG)]);
    const id = await remove([I1]);
    const list = await waitHeld(id, 3); // the client walks every page of 50
    const first = await ess('DescribeLifecycleActions', { ScalingActivityId: id, MaxResults: '2' });
    expect(first.json).toMatchObject({ TotalCount: 3, MaxResults: 2 });
    expect(first.json.LifecycleActions.LifecycleAction).toHaveLength(2);
    expect(first.json.NextToken).toEqual(expect.any(String));
    const second = await ess('DescribeLifecycleActions', {
      ScalingActivityId: id,
      MaxResults: '2',
      NextToken: first.json.NextToken as string,
    });
    expect(second.json.LifecycleActions.LifecycleAction).toHaveLength(1);
    expect(second.json.NextToken).toBeUndefined();
    await complete(HOOK_C, actionOf(list, HOOK_C).lifecycleActionToken);
    const pending = await ess('DescribeLifecycleActions', { ScalingActivityId: id, LifecycleActionStatus: 'Pending' });
    expect(pending.json.TotalCount).toBe(2);
    const byDefault = await ess('DescribeLifecycleActions', { ScalingActivityId: id });
    expect(byDefault.json.MaxResults).toBe(10);
    await expectRawError(
      ess('DescribeLifecycleActions', { ScalingActivityId: id, MaxResults: '51' }),
      'InvalidParameter',
    );
    await expectRawError(
      ess('DescribeLifecycleActions', { ScalingActivityId: id, LifecycleActionStatus: 'Done' }),
      'InvalidParameter',
    );
    await expectRawError(ess('DescribeLifecycleActions', { ScalingActivityId: 'asa-nothere' }), 'InvalidParameter');
    await expectRawError(ess('DescribeLifecycleActions'), 'MissingParameter');
  });
});

describe('LifecycleHookContext, deletion and the admin view', () => {
  it('DisableLifecycleHook bypasses every hook; IgnoredLifecycleHookIds.N only the named ones', async () => {
    await load([hook(HOOK_A, LONG), hook(HOOK_B, LONG)]);
    const all = await remove([I1], { disableLifecycleHook: true });
    expect((await waitEnded(all)).statusCode).toBe('Successful');
    expect(await actions(all)).toEqual([]);
    const some = await remove([I2], { ignoredLifecycleHookIds: [HOOK_A] });
    const list = await waitHeld(some, 1);
    expect(list.map((a) => a.lifecycleHookId)).toEqual([HOOK_B]);
    const calls = await admin.calls({ action: 'RemoveInstances' });
    expect(calls[0]?.params).toMatchObject({ 'LifecycleHookContext.DisableLifecycleHook': 'true' });
    expect(calls[1]?.params).toMatchObject({ 'LifecycleHookContext.IgnoredLifecycleHookIds.1': HOOK_A });
  });

  it('InActive and SCALE_OUT hooks hold nothing; deleting a hook ends its wait with its DefaultResult', async () => {
    await load([
      { ...hook(HOOK_A, LONG), status: 'InActive' },
      { ...hook(HOOK_B, LONG), lifecycleTransition: 'SCALE_OUT' },
      hook(HOOK_C, LONG, 'ROLLBACK'),
    ]);
    const id = await remove([I1]);
    const [a] = await waitHeld(id, 1);
    expect(a?.lifecycleHookId).toBe(HOOK_C);
    await ess('DeleteLifecycleHook', { LifecycleHookId: HOOK_C });
    expect((await waitEnded(id)).statusCode).toBe('Failed');
    expect(await actions(id)).toMatchObject([{ lifecycleActionStatus: 'Timeout', lifecycleActionResult: 'ROLLBACK' }]);
  });

  it('the admin state lists hooks and actions; the admin API completes an action as another actor', async () => {
    await load([hook(HOOK_A, LONG)]);
    const id = await remove([I1]);
    const [a] = await waitHeld(id, 1);
    const st = await admin.state();
    expect(st.lifecycleHooks).toEqual([
      expect.objectContaining({ lifecycleHookId: HOOK_A, heartbeatTimeout: LONG, status: 'Active' }),
    ]);
    expect(st.lifecycleActions).toEqual([
      expect.objectContaining({ scalingActivityId: id, status: 'Pending', instanceIds: [I1], heartbeats: 0 }),
    ]);
    expect(st.activities[0]).toMatchObject({ lifecycleHookIds: [HOOK_A] });
    const done = await admin.completeLifecycleAction(a?.lifecycleActionToken ?? '', 'ABANDON');
    expect(done).toMatchObject({ status: 'Completed', result: 'ABANDON' });
    await expect(admin.completeLifecycleAction(a?.lifecycleActionToken ?? '')).rejects.toMatchObject({ status: 409 });
    expect((await waitEnded(id)).statusCode).toBe('Successful');
  });
});
