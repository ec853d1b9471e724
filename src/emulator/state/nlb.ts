/**
 * NLB server groups and their asynchronous jobs (NLB 2022-04-30): the shared model of
 * server-groups.ts, as ALB's. Unlike ALB, a job is read back by GetJobStatus, which reports only its
 * Status, and a group with a job in flight refuses another change with IncorrectStatus.serverGroup
 * (inferred: docs/emulator.md).
 */
import type { Scenario } from '../types';
import type { Scheduler } from './clock';
import type { Settings } from './settings';
import { ServerGroupStore, type AlbGroupState, type ServerGroupKind } from './server-groups';

/** Same records as ALB's: a server group of typed servers keyed `serverId|port`. */
export type NlbGroupState = AlbGroupState;

const NLB_KIND: ServerGroupKind = {
  label: 'NLB',
  groups: (s: Scenario) => s.nlbServerGroups,
  jobDurationMs: (t) => t.nlbJobDurationMs ?? t.albJobDurationMs,
  missingServers: (ids) => ({
    code: 'ResourceNotFound.backendServer',
    message: `backend servers not found: ${ids}`,
  }),
};

export class NlbStore extends ServerGroupStore {
  constructor(scheduler: Scheduler, settings: Settings) {
    super(NLB_KIND, scheduler, settings);
  }
}
