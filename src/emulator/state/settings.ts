/**
 * Behaviour switches a scenario sets and `POST /__emulator/settings` changes without a reload:
 * denied actions, ClientToken handling, timings and the outcome rules of RemoveInstances activities.
 */
import { DEFAULT_TIMINGS } from '../scenario';
import type { ActivityOutcomeRule, Scenario, ScenarioTimings } from '../types';

export interface Timings {
  activityDurationMs: number;
  /** Unset: every activity takes activityDurationMs. */
  activityDurationSpreadMs?: number;
  essDrainWaitMs: number;
  albJobDurationMs: number;
  /** Unset: NLB jobs take albJobDurationMs. */
  nlbJobDurationMs?: number;
  activityListingLagMs: number;
  activityLookupLagMs: number;
  lifecycleStateLagMs: number;
  clbChangeWindowMs: number;
}

/** An outcome rule with what is left of its `times`. */
export type OutcomeRuleState = ActivityOutcomeRule & { remaining: number | undefined };

/** Already validated (by the scenario validator). */
export interface SettingsPatch {
  deniedActions?: string[] | undefined;
  ignoreClientToken?: boolean | undefined;
  activityOutcomes?: ActivityOutcomeRule[] | undefined;
  timings?: ScenarioTimings | undefined;
}

/** The admin API's answer: the settings as they are now. */
export interface SettingsView {
  deniedActions: string[];
  ignoreClientToken: boolean;
  activityOutcomes: OutcomeRuleState[];
  timings: Timings;
}

function outcomeStates(rules: readonly ActivityOutcomeRule[]): OutcomeRuleState[] {
  return rules.map((r) => ({ ...r, remaining: r.times }));
}

export class Settings {
  private denied = new Set<string>();
  private ignoreTokens = false;
  private durations: Timings = { ...DEFAULT_TIMINGS };
  private outcomes: OutcomeRuleState[] = [];

  load(s: Scenario): void {
    this.durations = { ...DEFAULT_TIMINGS, ...(s.timings ?? {}) };
    this.outcomes = outcomeStates(s.activityOutcomes ?? []);
    this.denied = new Set(s.deniedActions ?? []);
    this.ignoreTokens = s.ignoreClientToken ?? false;
  }

  /** Given sections replace the old ones; timings are merged into the current ones. */
  update(patch: SettingsPatch): void {
    if (patch.deniedActions !== undefined) this.denied = new Set(patch.deniedActions);
    if (patch.ignoreClientToken !== undefined) this.ignoreTokens = patch.ignoreClientToken;
    if (patch.activityOutcomes !== undefined) this.outcomes = outcomeStates(patch.activityOutcomes);
    if (patch.timings !== undefined) this.durations = { ...this.durations, ...patch.timings };
  }

  isDenied(action: string): boolean {
    return this.denied.has(action);
  }

  get ignoreClientToken(): boolean {
    return this.ignoreTokens;
  }

  get timings(): Readonly<Timings> {
    return this.durations;
  }

  /** The first outcome rule matching a RemoveInstances call for these instances; uses up one of its `times`. */
  takeOutcome(instanceIds: readonly string[]): Readonly<OutcomeRuleState> | undefined {
    for (const r of this.outcomes) {
      if (r.remaining !== undefined && r.remaining <= 0) continue;
      const match = r.match?.instanceIds;
      if (match && !instanceIds.some((id) => match.includes(id))) continue;
      if (r.remaining !== undefined) r.remaining--;
      return r;
    }
    return undefined;
  }

  view(): SettingsView {
    return {
      deniedActions: [...this.denied],
      ignoreClientToken: this.ignoreTokens,
      activityOutcomes: this.outcomes.map((r) => ({ ...r })),
      timings: { ...this.durations },
    };
  }
}
