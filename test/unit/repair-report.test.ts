import { describe, expect, it } from 'vitest';
import { ScaleInFailedError } from '../../src/client';
import type { Io } from '../../src/cli/io';
import { reportEnd } from '../../src/cli/report';

const ID = 'ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v';

function capture(): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l), rewrite: () => undefined, interactive: false };
}

const ended = (code: string) => ({
  kind: 'failed' as const,
  workflowId: ID,
  error: new ScaleInFailedError(code, 'Workflow execution ended', ID, undefined, undefined),
  progress: undefined,
});

describe('the CLI report of a run that ended without its cleanup offers repair', () => {
  it('a terminated run: exit 1 and the repair command for it', () => {
    const io = capture();
    expect(reportEnd(io, ended('TerminatedFailure'), false)).toBe(1);
    expect(io.lines.join('\n')).toContain(
      `instances it drained may still be at weight 0. Restore them with: ess-scale-in repair ${ID}`,
    );
  });

  it('a failed run carries the hint in its own message; JSON output stays one document', () => {
    const failed = capture();
    reportEnd(failed, ended('Forbidden.Unauthorized'), false);
    expect(failed.lines.join('\n')).not.toContain('ess-scale-in repair');
    const json = capture();
    reportEnd(json, ended('TerminatedFailure'), true);
    expect(json.lines).toHaveLength(1);
    expect(JSON.parse(json.lines[0] ?? '')).toMatchObject({ ok: false, outcome: 'terminated' });
  });
});
