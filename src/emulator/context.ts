import { apiError } from './api-error';
import type { Params } from './params';
import type { EmulatorState } from './state';

/** What an action handler gets. */
export interface ActionContext {
  state: EmulatorState;
  params: Params;
  action: string;
  accessKeyId: string;
  now: number;
  /** Filled by handlers for the call log. */
  meta: { createdActivityId?: string; createdJobId?: string };
}

/** Returns the response body without RequestId (the server adds it). Throws ApiError. */
export type ActionHandler = (ctx: ActionContext) => object;

/** A wire response without RequestId: what a handler returns. */
export type Body<T> = Omit<T, 'RequestId'>;

/** `deniedActions` answer 403 for every key (one account per emulator). */
export function checkDenied(ctx: ActionContext): void {
  if (ctx.state.settings.isDenied(ctx.action)) throw apiError('Forbidden.Unauthorized');
}
