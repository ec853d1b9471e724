import { CommanderError } from 'commander';
import { QueryRejectedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ControlRejectedError,
  InvalidInputError,
  RunAlreadyActiveError,
  RunNotFoundError,
  ScaleInFailedError,
  SearchAttributesMissingError,
  SearchAttributesRefusedError,
  TemporalUnreachableError,
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
  return describeInputOrLookup(e) ?? describeUsage(e) ?? describeRefusal(e) ?? describeUnexpected(e);
}

/** A described error with no lines under its message. */
function plain(exit: ExitCode, code: string, message: string, extra: Record<string, unknown> = {}): DescribedError {
  return { exit, code, message, lines: [], extra };
}

/** Bad input (exit 2), or a run that is already active or missing (exit 3). */
function describeInputOrLookup(e: unknown): DescribedError | undefined {
  if (e instanceof InvalidInputError) {
    const n = e.problems.length;
    return {
      exit: EXIT.usage,
      code: e.code,
      message: `invalid input (${n} problem${n === 1 ? '' : 's'}), nothing was started`,
      lines: e.problems.map((p) => `  ${p.field}: ${p.problem} (${p.fix})`),
      listed: true,
      extra: { problems: e.problems },
    };
  }
  if (e instanceof RunAlreadyActiveError)
    return plain(EXIT.conflictOrNotFound, e.code, e.message, { workflowId: e.workflowId, runId: e.runId ?? null });
  if (e instanceof RunNotFoundError)
    return plain(EXIT.conflictOrNotFound, e.code, e.message, { workflowId: e.workflowId });
  if (e instanceof WorkflowNotFoundError)
    return plain(EXIT.conflictOrNotFound, 'RunNotFound', e.message, { workflowId: e.workflowId });
  return undefined;
}

/** Bad flags or configuration: exit 2. */
function describeUsage(e: unknown): DescribedError | undefined {
  if (e instanceof TemporalUnreachableError)
    return {
      exit: EXIT.unreachable,
      code: e.code,
      message: e.message,
      lines: [
        '  check TEMPORAL_ADDRESS / --address and that the server is running ' +
          '(--connect-timeout or ESS_SCALE_IN_CONNECT_TIMEOUT waits longer)',
      ],
      extra: { address: e.address },
    };
  if (e instanceof ConfigError) return plain(EXIT.usage, e.code, e.message, { variable: e.variable });
  if (e instanceof CliUsageError)
    return { exit: EXIT.usage, code: e.code, message: e.message, lines: ['  see --help for usage'], extra: {} };
  if (e instanceof CommanderError) return plain(EXIT.usage, 'Usage', e.message.replace(/^error: /, ''));
  return undefined;
}

/** The run failed, ended, or refused the request: exit 1. */
function describeRefusal(e: unknown): DescribedError | undefined {
  if (e instanceof SearchAttributesMissingError)
    return plain(EXIT.failed, e.code, e.message, { namespace: e.namespace, missing: e.missing.map((m) => m.name) });
  if (e instanceof SearchAttributesRefusedError)
    return plain(EXIT.failed, e.code, e.message, { namespace: e.namespace });
  if (e instanceof RunEndedError)
    return plain(EXIT.failed, e.code, e.message, { workflowId: e.workflowId, status: e.status });
  if (e instanceof ScaleInFailedError) return plain(EXIT.failed, e.code, e.message, { workflowId: e.workflowId });
  if (e instanceof ControlRejectedError) return plain(EXIT.failed, e.code, e.message, { workflowId: e.workflowId });
  // The workflow's validator said no (already ended, not waiting for approval…): nothing changed.
  if (e instanceof WorkflowUpdateFailedError)
    return plain(EXIT.failed, 'Rejected', `the run refused: ${e.cause?.message ?? e.message}`);
  if (e instanceof QueryRejectedError) return plain(EXIT.failed, 'QueryRejected', e.message);
  return undefined;
}

/** Anything else: exit 1, with a hint when Temporal could not be reached. */
function describeUnexpected(e: unknown): DescribedError {
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
