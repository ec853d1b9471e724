import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatorAdminClient, type RunningEmulator } from '../../src/emulator';
import { FAST_FLAGS, startCliStack, type CliStack } from '../harness/cli';
import { SMALL } from '../harness/stack';

/** The human output of the CLI (real child process, real Temporal dev server, emulator): what operators read. */
describe('ess-scale-in CLI human output', () => {
  let emulator: RunningEmulator;
  let admin: EmulatorAdminClient;
  let workflowId: string;
  let stack: CliStack;

  const cli = (args: string[]) => stack.cli(args);

  const groupIds = () => stack.groupIds();
  const count = (text: string, part: string) => text.split(part).length - 1;

  beforeAll(async () => {
    stack = await startCliStack('cli-human');
    ({ emulator, workflowId } = stack);
    admin = new EmulatorAdminClient(emulator.url);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('start --dry-run --wait lists the load balancers the run drains, and every instance of each batch', async () => {
    const ids = groupIds().slice(0, 5);
    const r = await stack.start(ids, ['--batch-size', '5', '--dry-run', ...FAST_FLAGS, '--wait']);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Load balancers the run drains \(weight 0 before RemoveInstances/m);
    expect(out).toMatch(/^ {2}kind +ID +server group \/ listener +instances attached$/m);
    expect(out).toMatch(new RegExp(`^  CLB +${SMALL.lb} +default server group \\(its listeners\\) +all 5$`, 'm'));
    expect(out).toMatch(new RegExp(`^  CLB +${SMALL.lb} +vserver group ${SMALL.vsg} +all 5$`, 'm'));
    expect(out).toMatch(new RegExp(`^  ALB +- +server group ${SMALL.alb} +all 5$`, 'm'));
    // The batch table names every instance of the batch, not just its first and last.
    const table = out.slice(out.indexOf('batch  instances'), out.indexOf('\nremoved 0'));
    for (const id of ids) expect(table).toContain(id);
    // One reason for the five skipped instances, said once.
    expect(count(out, 'dry run: nothing was changed')).toBe(1);
    expect(out).toMatch(/^ {2}5 instances skipped$/m);
  });

  it('an aborted run says each reason once, then the instances it applies to', async () => {
    const ids = groupIds().slice(0, 6);
    await admin.settings({
      activityOutcomes: [
        {
          match: { instanceIds: [ids[0] ?? ''] },
          status: 'Failed',
          errorCode: 'Boom',
          errorMessage: 'failed',
          times: 1,
        },
      ],
    });
    const r = await stack.start(ids, ['--batch-size', '2', '--on-batch-failure', 'abort', ...FAST_FLAGS, '--wait']);
    expect(r.code).toBe(1);
    const out = r.stdout;
    const summary = out.slice(out.indexOf('Not removed:'), out.indexOf('\nOutcomes:'));
    // The stop's reason is said once in all (the failure's line), not again by the summary or each instance.
    expect(count(out, 'aborting because onBatchFailure is "abort"')).toBe(1);
    // Batches 2 and 3 were skipped, or drained ahead then restored: either way one reason a batch at most.
    expect(summary).toMatch(/^ {4}why: (not removed|drained then restored): the run stopped \(see above\)$/m);
    expect(summary).toMatch(/^ {2}[24] instances (skipped|restored)(, restored on .+)?$/m);
    // Each reason once, each instance once under it.
    expect(count(summary, 'its traffic was restored')).toBe(1);
    for (const id of ids) expect(count(summary, id)).toBe(1);
  });

  it('status lists the load balancers from the plan, and every instance of each batch', async () => {
    const r = await cli(['status', workflowId]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^  CLB +${SMALL.lb} +vserver group ${SMALL.vsg} +all 6$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^  ALB +- +server group ${SMALL.alb} +all 6$`, 'm'));
    const ids = groupIds().slice(0, 6);
    for (const id of ids) expect(r.stdout).toContain(id);
  });
});
