/**
 * The load-balancer registrations ESS manages for its instances, across CLB default server groups,
 * CLB vserver groups and ALB server groups, addressed by `BackendRef`. ESS changes ALB weights
 * directly, without jobs.
 */
import type {
  BackendRef,
  ScenarioAlbServerGroupAttachment,
  ScenarioAttachTo,
  ScenarioVServerGroupAttachment,
} from '../types';
import type { AlbStore } from './alb';
import type { ClbStore } from './clb';
import { backendKey } from './shared';

/** What a scaling group has attached (ports and weights as ESS registers its instances). */
export interface LbAttachments {
  readonly loadBalancerIds: readonly string[];
  readonly vServerGroups: ReadonlyArray<Readonly<Required<ScenarioVServerGroupAttachment>>>;
  readonly albServerGroups: ReadonlyArray<Readonly<Required<ScenarioAlbServerGroupAttachment>>>;
}

export class Backends {
  constructor(
    private readonly clb: ClbStore,
    private readonly alb: AlbStore,
  ) {}

  /** Where the instance is registered in the group's attached CLBs, vserver groups (at their port) and ALB groups. */
  attachedTo(group: LbAttachments, instanceId: string): BackendRef[] {
    return [...this.clbRefs(group, instanceId), ...this.vsgRefs(group, instanceId), ...this.albRefs(group, instanceId)];
  }

  /** New weight for a registration that still exists (a gone one stays gone). */
  setWeight(ref: BackendRef, weight: number): void {
    this.apply(ref, weight, undefined);
  }

  /** Back to the saved weight, registering the instance again where it was deregistered. */
  restore(ref: BackendRef): void {
    this.apply(ref, ref.weight, ref.type);
  }

  deregister(ref: BackendRef): void {
    if (ref.kind === 'clb') this.clb.deregisterServer(ref.resourceId, ref.serverId);
    else if (ref.kind === 'vsg') this.clb.deregisterVsgServer(ref.vServerGroupId ?? '', ref.serverId, ref.port ?? 0);
    else this.alb.deregisterServer(ref.resourceId, ref.serverId, ref.port ?? 0);
  }

  /** A released ECS instance disappears from every load balancer, attached to its group or not. */
  purge(instanceId: string): void {
    this.clb.purge(instanceId);
    this.alb.purge(instanceId);
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
  }

  private apply(ref: BackendRef, weight: number, readdType: string | undefined): void {
    const port = ref.port ?? 0;
    if (ref.kind === 'clb') this.clb.setServerWeight(ref.resourceId, ref.serverId, weight, readdType);
    else if (ref.kind === 'vsg')
      this.clb.setVsgServerWeight(ref.vServerGroupId ?? '', ref.serverId, port, weight, readdType);
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
