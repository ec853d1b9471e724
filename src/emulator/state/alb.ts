/**
 * ALB server groups and their asynchronous jobs: the shared model of server-groups.ts. A group with
 * a job in flight refuses another change with IncorrectStatus.ServerGroup (the handler's).
 */
import type { Scenario } from '../types';
import type { Scheduler } from './clock';
import type { Settings } from './settings';
import { ServerGroupStore, type ServerGroupKind } from './server-groups';

export {
  albServerStatus,
  type AlbGroupState,
  type AlbRegistration,
  type AlbServerState,
  type JobApi,
  type JobState,
  type JobUpdate,
} from './server-groups';

const ALB_KIND: ServerGroupKind = {
  label: 'ALB',
  groups: (s: Scenario) => s.albServerGroups,
  jobDurationMs: (t) => t.albJobDurationMs,
  missingServers: (ids) => ({
    code: 'ResourceNotFound.BackendServer',
    message: `The specified resource of BackendServer is not found: ${ids}.`,
  }),
};

export class AlbStore extends ServerGroupStore {
  constructor(scheduler: Scheduler, settings: Settings) {
    super(ALB_KIND, scheduler, settings);
  }
}
