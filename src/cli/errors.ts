import { CommanderError } from 'commander';
import { QueryRejectedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ControlRejectedError,
  InvalidInputError,
  RunAlreadyActiveError,
  RunNotFoundError,
  ScaleInFailedError,
} from '../client';
import { ConfigError } from '../config';
import { CliUsageError, EXIT, printJson, type ExitCode, type Io } from './io';

/** An update sent to a run that has ended: the server says "not found", which would mislead. */
export class RunEndedError extends Error {
  override readonly name = 'RunEndedError' as const;
  readonly code = 'RunEnded' as const;
  constructor(
    readonly workflowId: string,
    readonly status: string,
    action: string,
  ) {
    super(
      `run ${workflowId} has already ended (${status}); nothing to ${action}. See: ess-scale-in result ${workflowId}`,
    );
  }
}

export interface DescribedError {
  exit: ExitCode;
  code: string;
  message: string;
  /** Shown under the message in human mode (one problem per line). */
  lines: string[];
  /** The lines are a list the message introduces. */
  listed?: boolean;
  /** Extra JSON fields for scripts. */
  extra: Record<string, unknown>;
}

/**
 * One mapping from every failure to an exit code and a message. Messages come from our own
 * errors and the Temporal SDK, none of which carries the API key or an AccessKey secret.
 */
export function describeError(e: unknown): DescribedError {
  if (e instanceof InvalidInputError) {
    return {
      exit: EXIT.usage,
      code: e.code,
      message: `invalid input (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}), nothing was started`,
      lines: e.problems.map((p) => `  ${p.field}: ${p.problem} (${p.fix})`),
      listed: true,
      extra: { problems: e.problems },
    };
  }
  if (e instanceof RunAlreadyActiveError) {
    return {
      exit: EXIT.conflictOrNotFound,
      code: e.code,
      message: e.message,
      lines: [],
      extra: { workflowId: e.workflowId, runId: e.runId ?? null },
    };
  }
  if (e instanceof RunNotFoundError)
    return {
      exit: EXIT.conflictOrNotFound,
      code: e.code,
      message: e.message,
      lines: [],
      extra: { workflowId: e.workflowId },
    };
  if (e instanceof WorkflowNotFoundError)
    return {
      exit: EXIT.conflictOrNotFound,
      code: 'RunNotFound',
      message: e.message,
      lines: [],
      extra: { workflowId: e.workflowId },
    };
  if (e instanceof ConfigError)
    return { exit: EXIT.usage, code: e.code, message: e.message, lines: [], extra: { variable: e.variable } };
  if (e instanceof CliUsageError)
    return { exit: EXIT.usage, code: e.code, message: e.message, lines: ['  see --help for usage'], extra: {} };
  if (e instanceof CommanderError)
    return { exit: EXIT.usage, code: 'Usage', message: e.message.replace(/^error: /, ''), lines: [], extra: {} };
  if (e instanceof RunEndedError)
    return {
      exit: EXIT.failed,
      code: e.code,
      message: e.message,
      lines: [],
      extra: { workflowId: e.workflowId, status: e.status },
    };
  if (e instanceof ScaleInFailedError)
    return { exit: EXIT.failed, code: e.code, message: e.message, lines: [], extra: { workflowId: e.workflowId } };
  if (e instanceof ControlRejectedError)
    return { exit: EXIT.failed, code: e.code, message: e.message, lines: [], extra: { workflowId: e.workflowId } };
  if (e instanceof WorkflowUpdateFailedError) {
    // The workflow's validator said no (already ended, not waiting for approval…): nothing changed.
    return {
      exit: EXIT.failed,
      code: 'Rejected',
      message: `the run refused: ${e.cause?.message ?? e.message}`,
      lines: [],
      extra: {},
    };
  }
  if (e instanceof QueryRejectedError)
    return { exit: EXIT.failed, code: 'QueryRejected', message: e.message, lines: [], extra: {} };
  const err = e instanceof Error ? e : new Error(String(e));
  const unreachable = /connect|deadline|UNAVAILABLE|ECONNREFUSED/i.test(err.message);
  return {
    exit: EXIT.failed,
    code: unreachable ? 'Unavailable' : err.name,
    message: unreachable ? `cannot reach Temporal: ${err.message}` : `${err.name}: ${err.message}`,
    lines: unreachable ? ['  check TEMPORAL_ADDRESS / --address (and that the server is running)'] : [],
    extra: {},
  };
}

export function reportError(io: Io, e: unknown, json: boolean): ExitCode {
  const d = describeError(e);
  if (json) printJson(io, { ok: false, error: { code: d.code, message: d.message, ...d.extra } });
  io.err(`error: ${d.message}${d.listed ? ':' : ''}`);
  for (const line of d.lines) io.err(line);
  return d.exit;
}
