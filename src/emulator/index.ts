/**
 * Emulator of the Alibaba Cloud ESS (2014-08-28), CLB/SLB (2014-05-15) and ALB (2020-06-16) RPC
 * APIs: a real HTTP server on loopback that signs, fails and paginates like the real services, so
 * that switching to the real cloud only changes endpoints and keys. See docs/emulator.md.
 */
import { loadScenarioSource } from './scenario';
import { EmulatorServer } from './server';
import { EmulatorState } from './state';
import type { Scenario } from './types';

export { EmulatorAdminClient, EmulatorAdminError } from './admin-client';
export type { EmulatorSettings, GroupPatch, InstancePatch, LoadBalancerPatch } from './admin-client';
export { EmulatorState } from './state';
export { BUILTIN_SCENARIOS, ScenarioError, loadScenarioSource, validateScenario } from './scenario';
export { FaultInjector } from './faults';
export type * from './types';

export interface StartEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** A scenario object, a built-in name (`demo`, `small`) or a JSON file path. Default `demo`. */
  scenario?: Scenario | string;
  /**
   * AccessKeyId -> secret. Default: the scenario's `accessKeys`, else env
   * EMULATOR_ACCESS_KEYS="id:secret,id2:secret2".
   */
  accessKeys?: Record<string, string>;
  /** Multiplies every scenario duration (activity, drain wait, ALB job). Default 1; 0.1 = ten times faster. */
  timeScale?: number;
  /** One line per API call (never a secret). Silent by default. */
  log?: (line: string) => void;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:PORT`: the endpoint for ESS, SLB and ALB alike. */
  url: string;
  port: number;
  /** In-process access for tests. */
  state: EmulatorState;
  close(): Promise<void>;
}

/** Parses `EMULATOR_ACCESS_KEYS="id:secret,id2:secret2"` (a secret may contain `:`). */
export function parseAccessKeys(value: string | undefined): Record<string, string> | undefined {
  if (!value || value.trim() === '') return undefined;
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const i = p.indexOf(':');
    if (i <= 0 || i === p.length - 1) throw new Error('EMULATOR_ACCESS_KEYS must look like "id:secret,id2:secret2"');
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

export async function startEmulator(opts: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale >= 0) || !Number.isFinite(timeScale)) throw new RangeError('timeScale must be a finite number >= 0');
  const envKeys = parseAccessKeys(process.env.EMULATOR_ACCESS_KEYS);
  const state = new EmulatorState(timeScale, opts.accessKeys);
  let current = loadScenarioSource(opts.scenario ?? 'demo');
  state.load(current, envKeys);
  if (state.accessKeyIds().length === 0) {
    throw new Error(
      'emulator: no access keys: pass accessKeys, put accessKeys in the scenario, ' +
        'or set EMULATOR_ACCESS_KEYS="id:secret"',
    );
  }
  const server = new EmulatorServer({
    host,
    port: opts.port ?? 0,
    state,
    log: opts.log,
    admin: {
      loadScenario(source) {
        const next = loadScenarioSource(source);
        state.load(next, envKeys);
        current = next;
      },
      reset() {
        state.load(current, envKeys);
      },
    },
  });
  let port: number;
  try {
    port = await server.listen();
  } catch (e) {
    state.dispose();
    throw e;
  }
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    state,
    async close() {
      state.dispose();
      await server.close();
    },
  };
}
