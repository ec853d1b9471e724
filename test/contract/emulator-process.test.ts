/**
 * The emulator in a child process of its own (src/devtools/emulator-process.ts): it listens on a free
 * loopback port, takes scenarios and answers signed calls of the project's cloud client, shows them
 * in its call log over the admin API, and is gone once stopped (or once its parent's pipe closes).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCloudClient, staticCredentials } from '../../src/aliyun';
import { EmulatorProcessError, spawnEmulatorProcess, type EmulatorProcess } from '../../src/devtools/emulator-process';
import { TEST_GROUP, TEST_KEY, TEST_REGION, buildTestScenario } from '../../src/emulator/testing';

const SMALL_KEY = { id: 'LTAIsmallEmulatorKey1', secret: 'small-emulator-secret-not-real' };
const SMALL_GROUP = 'asg-bp1small000000000001';

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const started: EmulatorProcess[] = [];

async function start(...args: Parameters<typeof spawnEmulatorProcess>): Promise<EmulatorProcess> {
  const p = await spawnEmulatorProcess(...args);
  started.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

describe('emulator process', () => {
  it('serves a loaded scenario to a signed call, logs it, and is gone once stopped', { timeout: 60_000 }, async () => {
    const emu = await start({ scenario: 'small' });
    expect(emu.pid).not.toBe(process.pid);
    expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    expect(isAlive(emu.pid)).toBe(true);

    const loaded = await emu.loadScenario(buildTestScenario({ count: 3 }));
    expect(loaded).toMatchObject({ ok: true, groups: 1, instances: 3 });

    const cloud = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
      endpoints: { ess: emu.url, slb: emu.url, alb: emu.url, nlb: emu.url },
      rateLimiter: null,
    });
    try {
      const group = await cloud.ess.describeScalingGroup(TEST_REGION, TEST_GROUP);
      expect(group?.scalingGroupId).toBe(TEST_GROUP);
    } finally {
      await cloud.close();
    }

    const calls = await emu.calls();
    expect(calls.map((c) => [c.product, c.action, c.outcome])).toEqual([['ess', 'DescribeScalingGroups', 'ok']]);
    expect(JSON.stringify(calls)).not.toContain(TEST_KEY.accessKeySecret);
    const state = await emu.state();
    expect(state.scenarioName).toBe('contract-test');
    expect((await emu.stats()).calls).toBe(1);

    const last = await emu.stop();
    expect(await emu.exited).toBe(0);
    expect(last?.calls).toBe(1);
    expect(isAlive(emu.pid)).toBe(false);
    expect(emu.output()).not.toContain(TEST_KEY.accessKeySecret);
  });

  it('starts on a scenario object given to it', { timeout: 60_000 }, async () => {
    const emu = await start({ scenario: buildTestScenario({ count: 2 }) });
    const state = await emu.state();
    expect(state.groups.map((g) => g.scalingGroupId)).toEqual([TEST_GROUP]);
    expect(state.instances).toHaveLength(2);
  });

  it('uses access keys passed to it when the scenario has none', { timeout: 60_000 }, async () => {
    const keyless = buildTestScenario({ count: 1 });
    delete keyless.accessKeys;
    const emu = await start({ scenario: keyless, accessKeys: { [SMALL_KEY.id]: SMALL_KEY.secret } });
    expect((await emu.state()).accessKeyIds).toEqual([SMALL_KEY.id]);
    expect(emu.output()).not.toContain(SMALL_KEY.secret);
  });

  it('stops by itself once its parent closes the pipe', { timeout: 60_000 }, async () => {
    const emu = await start({ scenario: 'small' });
    expect((await emu.state()).groups.map((g) => g.scalingGroupId)).toEqual([SMALL_GROUP]);
    emu.child.stdin?.end();
    expect(await emu.exited).toBe(0);
    expect(isAlive(emu.pid)).toBe(false);
  });

  it('rejects with EmulatorProcessError and the child output when it cannot start', { timeout: 60_000 }, async () => {
    const err = await start({ scenario: '/nonexistent/emulator-scenario.json' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EmulatorProcessError);
    expect((err as EmulatorProcessError).code).toBe('EmulatorProcessFailed');
    expect((err as Error).message).toMatch(/exited before its EMULATOR_READY line/);
    expect((err as Error).message).toContain('emulator-scenario.json');
  });
});
