/**
 * The load-balancer registrations ESS manages for its instances, across CLB default server groups,
 * CLB vserver groups and ALB server groups, addressed by `BackendRef`. ESS changes ALB weights
 * directly, without jobs; its deregistration after a scale-in goes through the load balancers'
 * own state machines (`deregisterAsEss`).
 */
import type {
  BackendRef,
  ScenarioAlbServerGroupAttachment,
  ScenarioAttachTo,
  ScenarioNlbServerGroupAttachment,
  ScenarioVServerGroupAttachment,
} from '../types';
import type { AlbStore } from './alb';
import type { NlbStore } from './nlb';
import type { ClbStore } from './clb';
import { backendKey } from './shared';

/** What a scaling group has attached (ports and weights as ESS registers its instances). */
export interface LbAttachments {
  readonly loadBalancerIds: readonly string[];
  readonly vServerGroups: ReadonlyArray<Readonly<Required<ScenarioVServerGroupAttachment>>>;
  readonly albServerGroups: ReadonlyArray<Readonly<Required<ScenarioAlbServerGroupAttachment>>>;
  readonly nlbServerGroups?: ReadonlyArray<Readonly<Required<ScenarioNlbServerGroupAttachment>>> | undefined;
}

export class Backends {
  constructor(
    private readonly clb: ClbStore,
    private readonly alb: AlbStore,
    private readonly nlb?: NlbStore,
  ) {}

  /** Where the instance is registered in the group's attached CLBs, vserver groups (at their port) and ALB groups. */
  attachedTo(group: LbAttachments, instanceId: string): BackendRef[] {
    return [
      ...this.clbRefs(group, instanceId),
      ...this.vsgRefs(group, instanceId),
      ...this.albRefs(group, instanceId),
      ...this.nlbRefs(group, instanceId),
    ];
  }

  /** New weight for a registration that still exists (a gone one stays gone). */
  setWeight(ref: BackendRef, weight: number): void {
    this.apply(ref, weight, undefined);
  }

  /** Back to the saved weight, registering the instance again where it was deregistered. */
  restore(ref: BackendRef): void {
    this.apply(ref, ref.weight, ref.type);
  }

  /**
   * A scaling activity's deregistration, as the load balancers see it: CLB backends leave at once
   * and their CLB (and vserver group) is in a change until `clbChangeUntilMs`; ALB servers leave
   * through one RemoveServersFromServerGroup job per server group, which keeps the group busy, and
   * so do NLB servers. Returns when the last of those jobs ends (0 without any).
   */
  deregisterAsEss(refs: readonly BackendRef[], clbChangeUntilMs: number): number {
    const jobKeys = { alb: new Map<string, string[]>(), nlb: new Map<string, string[]>() };
    for (const ref of refs) {
      if (ref.kind === 'alb' || ref.kind === 'nlb') {
        const byGroup = jobKeys[ref.kind];
        byGroup.set(ref.resourceId, [...(byGroup.get(ref.resourceId) ?? []), backendKey(ref.serverId, ref.port ?? 0)]);
        continue;
      }
      this.deregister(ref);
      if (ref.kind === 'clb') this.clb.beginLbChange(ref.resourceId, clbChangeUntilMs);
      else if (ref.kind === 'vsg') this.clb.beginVsgChange(ref.vServerGroupId ?? '', clbChangeUntilMs);
    }
    let doneMs = 0;
    for (const [groupId, keys] of jobKeys.alb)
      doneMs = Math.max(doneMs, this.alb.startRemovalJob(groupId, keys)?.dueMs ?? 0);
    for (const [groupId, keys] of jobKeys.nlb)
      doneMs = Math.max(doneMs, this.nlb?.startRemovalJob(groupId, keys)?.dueMs ?? 0);
    return doneMs;
  }

  deregister(ref: BackendRef): void {
    if (ref.kind === 'clb') this.clb.deregisterServer(ref.resourceId, ref.serverId);
    else if (ref.kind === 'vsg') this.clb.deregisterVsgServer(ref.vServerGroupId ?? '', ref.serverId, ref.port ?? 0);
    else if (ref.kind === 'nlb') this.nlb?.deregisterServer(ref.resourceId, ref.serverId, ref.port ?? 0);
    else this.alb.deregisterServer(ref.resourceId, ref.serverId, ref.port ?? 0);
  }

  /** A released ECS instance disappears from every load balancer, attached to its group or not. */
  purge(instanceId: string): void {
    this.clb.purge(instanceId);
    this.alb.purge(instanceId);
    this.nlb?.purge(instanceId);
  }

  /** A scenario instance's `attachTo`: registered as an ECS backend everywhere it names. */
  registerFromScenario(instanceId: string, attachTo: ScenarioAttachTo): void {
    const weight = attachTo.weight ?? 100;
    const port = attachTo.port ?? 80;
    for (const lbId of attachTo.loadBalancerIds ?? [])
      this.clb.registerServer(lbId, instanceId, { weight, type: 'ecs' });
    for (const vsgId of attachTo.vServerGroupIds ?? [])
      this.clb.registerVsgServer(vsgId, instanceId, port, { weight, type: 'ecs' });
    for (const sg of attachTo.albServerGroupIds ?? [])
      this.alb.registerServer(sg, instanceId, port, { weight, serverType: 'Ecs' });
    for (const sg of attachTo.nlbServerGroupIds ?? [])
      this.nlb?.registerServer(sg, instanceId, port, { weight, serverType: 'Ecs' });
  }

  private apply(ref: BackendRef, weight: number, readdType: string | undefined): void {
    const port = ref.port ?? 0;
    if (ref.kind === 'clb') this.clb.setServerWeight(ref.resourceId, ref.serverId, weight, readdType);
    else if (ref.kind === 'vsg')
      this.clb.setVsgServerWeight(ref.vServerGroupId ?? '', ref.serverId, port, weight, readdType);
    else if (ref.kind === 'nlb') this.nlb?.setServerWeight(ref.resourceId, ref.serverId, port, weight, readdType);
    else this.alb.setServerWeight(ref.resourceId, ref.serverId, port, weight, readdType);
  }

  private clbRefs(group: LbAttachments, serverId: string): BackendRef[] {
    return group.loadBalancerIds.flatMap((lbId) => {
      const b = this.clb.loadBalancer(lbId)?.backends.get(serverId);
      return b ? [{ kind: 'clb' as const, resourceId: lbId, serverId, weight: b.weight, type: b.type }] : [];
    });
  }

  private vsgRefs(group: LbAttachments, serverId: string): BackendRef[] {
    return group.vServerGroups.flatMap((att) => {
      const b = this.clb.vServerGroup(att.vServerGroupId)?.backends.get(backendKey(serverId, att.port));
      if (!b) return [];
      const ref: BackendRef = {
        kind: 'vsg',
        resourceId: att.loadBalancerId,
        vServerGroupId: att.vServerGroupId,
        serverId,
        port: att.port,
        weight: b.weight,
        type: b.type,
      };
      return [ref];
    });
  }

  private nlbRefs(group: LbAttachments, serverId: string): BackendRef[] {
    return (group.nlbServerGroups ?? []).flatMap((att) => {
      const s = this.nlb?.serverGroup(att.nlbServerGroupId)?.servers.get(backendKey(serverId, att.port));
      if (!s) return [];
      const ref: BackendRef = {
        kind: 'nlb',
        resourceId: att.nlbServerGroupId,
        serverId,
        port: att.port,
        weight: s.weight,
        type: s.serverType,
      };
      return [ref];
    });
  }

  private albRefs(group: LbAttachments, serverId: string): BackendRef[] {
    return group.albServerGroups.flatMap((att) => {
      const s = this.alb.serverGroup(att.albServerGroupId)?.servers.get(backendKey(serverId, att.port));
      if (!s) return [];
      const ref: BackendRef = {
        kind: 'alb',
        resourceId: att.albServerGroupId,
        serverId,
        port: att.port,
        weight: s.weight,
        type: s.serverType,
      };
      return [ref];
    });
  }
}
