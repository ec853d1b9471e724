/**
 * A small typed client for the emulator's admin API (`/__emulator/...`), over global fetch.
 * Admin routes are not signed; never point this at anything but an emulator.
 */
import type {
  ActivityOutcomeRule,
  CallLogEntry,
  CallLogFilter,
  EmulatorStateSnapshot,
  FaultRule,
  FaultRuleStatus,
  GroupSnapshot,
  InstanceSnapshot,
  LifecycleActionSnapshot,
  LoadBalancerSnapshot,
  Scenario,
  ScenarioTimings,
} from './types';

export class EmulatorAdminError extends Error {
  override readonly name = 'EmulatorAdminError' as const;
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface InstancePatch {
  lifecycleState?: string;
  healthStatus?: 'Healthy' | 'Unhealthy';
  creationType?: string;
  entrusted?: boolean;
  weight?: number;
  scalingGroupId?: string;
}

export interface GroupPatch {
  lifecycleState?: 'Active' | 'Inactive' | 'Deleting';
  scalingPolicy?: 'release' | 'recycle' | 'forcerelease';
  minSize?: number;
  maxSize?: number;
  /** `null` clears it (the group then reports no DesiredCapacity). */
  desiredCapacity?: number | null;
  /** Starts an InProgress activity that blocks the group (ScalingActivityInProgress from real state). */
  startActivity?: { durationMs?: number; status?: 'Successful' | 'Warning' | 'Failed' };
}

export interface LoadBalancerPatch {
  status?: 'active' | 'inactive' | 'locked';
  /** ServerHealthStatus per server ID; `null` resets to `normal`. */
  health?: Record<string, 'normal' | 'abnormal' | 'unavailable' | null>;
}

export interface EmulatorSettings {
  deniedActions?: string[];
  ignoreClientToken?: boolean;
  activityOutcomes?: ActivityOutcomeRule[];
  timings?: ScenarioTimings;
}

export class EmulatorAdminClient {
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...init.headers, 'content-type': 'application/json' };
    }
    const res = await fetch(`${this.base}/__emulator${path}`, init);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new EmulatorAdminError(res.status, `admin ${method} ${path}: not JSON (HTTP ${res.status})`);
    }
    if (!res.ok) {
      const msg = (parsed as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`;
      throw new EmulatorAdminError(res.status, `admin ${method} ${path}: ${msg}`);
    }
    return parsed as T;
  }

  health(): Promise<{ ok: boolean; scenario: string }> {
    return this.call('GET', '/health');
  }

  /** Replaces the whole state: a scenario object, or `{name}` of a built-in (`demo`, `small`). */
  loadScenario(
    s: Scenario | { name: string },
  ): Promise<{ ok: boolean; scenario: string; instances: number; groups: number }> {
    return this.call('POST', '/scenario', s);
  }

  /** Back to the initial state of the current scenario (also clears faults and the call log). */
  reset(): Promise<{ ok: boolean; scenario: string }> {
    return this.call('POST', '/reset');
  }

  setFaults(rules: FaultRule[], seed?: number): Promise<FaultRuleStatus[]> {
    return this.call('PUT', '/faults', seed === undefined ? rules : { rules, seed });
  }

  faults(): Promise<FaultRuleStatus[]> {
    return this.call('GET', '/faults');
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  calls(filter: CallLogFilter = {}): Promise<CallLogEntry[]> {
    const q = new URLSearchParams();
    if (filter.action) q.set('action', filter.action);
    if (filter.outcome) q.set('outcome', filter.outcome);
    if (filter.sinceSeq !== undefined) q.set('since', String(filter.sinceSeq));
    const qs = q.toString();
    return this.call('GET', `/calls${qs ? `?${qs}` : ''}`);
  }

  async clearCalls(): Promise<void> {
    await this.call('DELETE', '/calls');
  }

  state(): Promise<EmulatorStateSnapshot> {
    return this.call('GET', '/state');
  }

  settings(s: EmulatorSettings): Promise<Required<EmulatorSettings>> {
    return this.call('POST', '/settings', s);
  }

  patchInstance(instanceId: string, patch: InstancePatch): Promise<InstanceSnapshot> {
    return this.call('POST', `/instances/${encodeURIComponent(instanceId)}`, patch);
  }

  setInstanceState(instanceId: string, lifecycleState: string): Promise<InstanceSnapshot> {
    return this.patchInstance(instanceId, { lifecycleState });
  }

  patchGroup(groupId: string, patch: GroupPatch): Promise<GroupSnapshot & { startedActivityId?: string }> {
    return this.call('POST', `/groups/${encodeURIComponent(groupId)}`, patch);
  }

  /** Starts a blocking InProgress activity on the group; resolves to its ScalingActivityId. */
  async startGroupActivity(
    groupId: string,
    durationMs: number,
    status?: 'Successful' | 'Warning' | 'Failed',
  ): Promise<string> {
    const r = await this.patchGroup(groupId, { startActivity: status ? { durationMs, status } : { durationMs } });
    if (!r.startedActivityId) throw new EmulatorAdminError(500, 'admin: no activity was started');
    return r.startedActivityId;
  }

  patchLoadBalancer(loadBalancerId: string, patch: LoadBalancerPatch): Promise<LoadBalancerSnapshot> {
    return this.call('POST', `/loadbalancers/${encodeURIComponent(loadBalancerId)}`, patch);
  }

  /**
   * Completes a Pending lifecycle action as another actor would (CompleteLifecycleAction without
   * signing); `result` defaults to the hook's DefaultResult. 404 for an unknown token, 409 once ended.
   */
  completeLifecycleAction(
    token: string,
    result?: 'CONTINUE' | 'ABANDON' | 'ROLLBACK',
  ): Promise<LifecycleActionSnapshot> {
    return this.call('POST', `/lifecycleactions/${encodeURIComponent(token)}`, result ? { result } : {});
  }

  patchDbInstance(dbInstanceId: string, status: string): Promise<{ dbInstanceId: string; status: string }> {
    return this.call('POST', `/dbinstances/${encodeURIComponent(dbInstanceId)}`, { status });
  }
}
