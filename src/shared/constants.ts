export const DEFAULT_TASK_QUEUE = 'ess-scale-in';
export const DEFAULT_NAMESPACE = 'default';
/** Hard limit of the RemoveInstances API (InstanceId.N). */
export const MAX_BATCH_SIZE = 20;
