import { describe, expect, it } from 'vitest';
import { buildInput } from '../../src/cli/input';
import { buildProgram } from '../../src/cli/program';
import { validateInput } from '../../src/shared/input';

const base = { region: 'cn-hangzhou', group: 'asg-bp1dk4nm0o5ldvzcpe2v', instances: ['i-bp1a2b3c4d5e6f7g8h9i'] };

describe('--allow-drained and the repair command on the command line', () => {
  it('--allow-drained sets allowDrainedInstances; without it the input leaves it to the default (false)', () => {
    expect(validateInput(buildInput({ ...base, allowDrained: true })).allowDrainedInstances).toBe(true);
    const plain = buildInput(base);
    expect(plain).not.toHaveProperty('allowDrainedInstances');
    expect(validateInput(plain).allowDrainedInstances).toBe(false);
  });

  it('start lists --allow-drained; repair takes a workflow ID or --region/--group, and --run-id', () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), rewrite: () => undefined };
    const program = buildProgram({ ...io, interactive: false }, () => undefined);
    const help = (name: string) => program.commands.find((c) => c.name() === name)?.helpInformation() ?? '';
    expect(help('start')).toContain('--allow-drained');
    expect(help('repair')).toMatch(/\[workflowId\][\s\S]*--region[\s\S]*--group[\s\S]*--run-id <runId>/);
  });
});
