import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { planRun } from '../../chaos/plan';
import { runChaos } from '../../chaos/run';
import { startLab, type Lab } from '../../src/devtools/lab';

// The chaos suite's short, fixed-seed version (`npm run chaos -- --runs 50` is the long one).
// Seeds chosen for coverage: three groups each, standby and weight drains, failing scaling
// activities, lost LB-change responses (seed 1), lost RemoveInstances responses with ClientToken
// ignored (seed 52), throttling, 5xx, resets and latency everywhere, and two worker SIGKILLs each.
const SEEDS = [1, 52];

describe('chaos: worker kills and injected faults, judged by the emulator', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({
      temporalAddress: inject('temporalAddress'),
      workflowBundlePath: inject('workflowBundlePath'),
    });
  });
  afterAll(async () => {
    await lab?.close();
  });

  it.each(SEEDS)(
    'seed %i: every invariant holds',
    async (seed) => {
      const plan = planRun(seed, Math.random().toString(36).slice(2, 7).padEnd(5, '0'));
      const report = await runChaos(lab, plan, { timeoutMs: 100_000 });
      expect(report.violations).toEqual([]);
      expect(report.passed).toBe(true);
      // The run was really disturbed, and really did its job.
      expect(report.kills).toBe(plan.kills.length);
      expect(report.kills).toBeGreaterThan(0);
      expect(report.faultedCalls).toBeGreaterThan(0);
      expect(report.removed).toBeGreaterThan(0);
      expect(report.removed + report.notRemoved).toBe(report.requested);
    },
    150_000,
  );
});
