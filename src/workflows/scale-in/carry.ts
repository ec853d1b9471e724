import type { BatchProgress, InstanceReport, Plan, RemovedGroup } from '../../shared/progress';
import type { RestoreRecord } from '../../shared/restore';

/** What a run hands to the next one on continue-as-new: compact, no raw API responses. */
export interface ScaleInCarry {
  /** Stable across the whole chain: ClientTokens derive from it. */
  runKey: string;
  batchOffset: number;
  totalInstances: number;
  plan: Plan;
  removed: RemovedGroup[];
  notRemoved: InstanceReport[];
  recentBatches: BatchProgress[];
  /** Batches drained (and waited for) by the previous run, not yet removed. */
  drained: Array<{ instanceIds: string[]; restore: RestoreRecord[]; drainedAt: string }>;
  paused: boolean;
  continuedAsNew: number;
}
