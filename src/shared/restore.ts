/**
 * How to give a drained instance its traffic back: one record per backend (or per instance for
 * standby). Activities write them, the workflow keeps them, both need the same identity for one.
 */
export type RestoreRecord =
  | { kind: 'clb'; loadBalancerId: string; serverId: string; weight: number }
  | { kind: 'vsg'; vServerGroupId: string; serverId: string; port: number; weight: number }
  | { kind: 'alb'; serverGroupId: string; serverId: string; serverType: string; port: number; weight: number }
  | { kind: 'nlb'; serverGroupId: string; serverId: string; serverType: string; port: number; weight: number }
  | { kind: 'standby'; instanceId: string };

/** One backend of one instance (or its standby). */
export function restoreKey(r: RestoreRecord): string {
  switch (r.kind) {
    case 'clb':
      return `clb/${r.loadBalancerId}/${r.serverId}`;
    case 'vsg':
      return `vsg/${r.vServerGroupId}/${r.serverId}/${r.port}`;
    case 'alb':
      return `alb/${r.serverGroupId}/${r.serverId}/${r.port}`;
    case 'nlb':
      return `nlb/${r.serverGroupId}/${r.serverId}/${r.port}`;
    case 'standby':
      return `standby/${r.instanceId}`;
  }
}

export function restoreInstanceId(r: RestoreRecord): string {
  return r.kind === 'standby' ? r.instanceId : r.serverId;
}

/**
 * One record per backend, the earliest winning: those of `first` over those of `then`, and within
 * each list the first one (a weight read after a change may be 0).
 */
export function mergeRestore(first: readonly RestoreRecord[], then: readonly RestoreRecord[]): RestoreRecord[] {
  const out = new Map<string, RestoreRecord>();
  for (const r of [...first, ...then]) if (!out.has(restoreKey(r))) out.set(restoreKey(r), r);
  return [...out.values()];
}
