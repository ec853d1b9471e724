import { ApplicationFailure, allHandlersFinished, condition, isCancellation } from '@temporalio/workflow';
import type { PreflightResponse } from '../../activities';
import type { Plan, ScaleInResult } from '../../shared/progress';
import type { ScaleInRun } from './run';

type Problem = PreflightResponse['problems'][number];

/**
 * Everything before the first change: the preflight, a dry run's report, the wait for approval.
 * Returns the result of a dry run; throws when the preflight refuses the run.
 */
export async function checkBeforeChanging(run: ScaleInRun): Promise<ScaleInResult | undefined> {
  const { input } = run;
  try {
    const summary = `Preflight: ${input.instanceIds.length} instance(s) in ${input.scalingGroupId}`;
    const req = { input, retryDelayCapMs: input.advanced.retryMaxIntervalMs };
    const pre = await run.acts.reads.preflight.executeWithOptions({ summary }, [req]);
    run.ledger.plan = pre.plan;
    if (pre.problems.length) return await refuse(run, pre.problems);
    if (input.dryRun) return await dryRun(run, pre.plan);
    if (!run.approved) {
      run.setPhase('AwaitingApproval');
      await condition(() => run.approved);
    }
    return undefined;
  } catch (err) {
    // Cancelled before anything changed (during the preflight or while awaiting approval).
    if (isCancellation(err) && run.patches.reportCancelBeforeRunning()) {
      run.ledger.skip(input.instanceIds, `the run was cancelled during ${run.phase}, before any change`);
      run.setPhase('Cancelled');
    }
    throw err;
  }
}

async function refuse(run: ScaleInRun, problems: Problem[]): Promise<never> {
  run.ledger.lastError = problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
  for (const p of problems) run.ledger.skip(p.instanceIds ?? [], `preflight: ${p.problem}`);
  run.setPhase('Failed');
  await condition(allHandlersFinished);
  const listed = problems.map((p) => `${p.field}: ${p.problem} (fix: ${p.fix})`).join('; ');
  throw ApplicationFailure.create({
    type: 'PreflightFailed',
    nonRetryable: true,
    message: `Preflight failed, nothing was changed: ${listed}`,
    details: [problems],
  });
}

async function dryRun(run: ScaleInRun, plan: Plan): Promise<ScaleInResult> {
  run.ledger.skip(run.input.instanceIds, 'dry run: nothing was changed');
  run.setPhase('DryRun');
  await condition(allHandlersFinished);
  const { group } = plan;
  const shape = `${plan.batchCount} batch(es) of up to ${plan.batchSize}`;
  const capacity = `TotalCapacity ${group.totalCapacity} → ${plan.capacityAfter} (MinSize ${group.minSize})`;
  return run.result('dry-run', `Dry run: ${shape}; ${capacity}.`);
}
