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
