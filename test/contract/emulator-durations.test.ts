import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmulatorAdminClient, startEmulator } from '../../src/emulator';
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

const ess = (action: string, extra: Record<string, string> = {}) =>
  rawCall(emu.url, { Action: action, Version: '2014-08-28', RegionId: TEST_REGION, ...extra }, TEST_KEY);

const timings = { activityDurationMs: 300, activityDurationSpreadMs: 150, essDrainWaitMs: 0, albJobDurationMs: 50 };

beforeAll(async () => {
  emu = await startEmulator({ scenario: buildTestScenario({ count: 10, timings }) });
  admin = new EmulatorAdminClient(emu.url);
});

afterAll(async () => {
  await emu.close();
});

describe('timings.activityDurationSpreadMs', () => {
  it('draws each removal activity a duration within activityDurationMs ± the spread, not all the same', async () => {
    const durations: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await ess('RemoveInstances', { ScalingGroupId: TEST_GROUP, 'InstanceId.1': testInstanceId(i + 1) });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const id = res.json.ScalingActivityId as string;
      const ended = await waitFor(async () => {
        const a = (await admin.state()).activities.find((x) => x.scalingActivityId === id);
        return a?.endTime ? a : undefined;
      });
      durations.push(Date.parse(ended.endTime as string) - Date.parse(ended.startTime));
    }
    for (const d of durations) {
      expect(d).toBeGreaterThanOrEqual(150 - 5);
      expect(d).toBeLessThanOrEqual(450 + 50);
    }
    expect(new Set(durations.map((d) => Math.round(d / 20))).size).toBeGreaterThan(1);
  });

  it('refuses a spread wider than the duration, naming the field', async () => {
    await expect(
      admin.loadScenario(
        buildTestScenario({ count: 2, timings: { activityDurationMs: 100, activityDurationSpreadMs: 200 } }),
      ),
    ).rejects.toThrow(/timings\.activityDurationSpreadMs/);
  });
});
