/**
 * Test support for code that talks to the emulator: a raw signed RPC call (for protocol-level
 * assertions the typed client deliberately hides) and a compact scenario builder.
 */
import { percentEncode, signRpcParams } from '../aliyun/signer';
import type { Scenario } from './types';

export interface RawCallOptions {
  accessKeyId: string;
  accessKeySecret: string;
  method?: 'GET' | 'POST';
  /** Sent as an x-www-form-urlencoded body (signed together with the query). */
  body?: Record<string, string>;
  nonce?: string;
  now?: Date;
  /** Mutates the signed parameters before sending (to forge bad requests). */
  tamper?: (signed: Record<string, string>) => void;
  /** Signs with this method but sends with `method`. */
  signMethod?: 'GET' | 'POST';
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

function encode(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

/** One signed RPC call with plain fetch; returns status, headers and the parsed body. */
export async function rawCall(
  baseUrl: string,
  params: Record<string, string>,
  opts: RawCallOptions,
): Promise<RawResponse> {
  const method = opts.method ?? 'POST';
  const body = opts.body ?? {};
  const signOpts: Parameters<typeof signRpcParams>[1] = {
    method: opts.signMethod ?? method,
    accessKeyId: opts.accessKeyId,
    accessKeySecret: opts.accessKeySecret,
  };
  if (opts.nonce !== undefined) signOpts.nonce = opts.nonce;
  if (opts.now !== undefined) signOpts.now = opts.now;
  const signed = signRpcParams({ ...params, ...body }, signOpts);
  opts.tamper?.(signed);
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed)) if (!(k in body)) query[k] = v;
  const hasBody = Object.keys(body).length > 0;
  const init: RequestInit = { method };
  if (hasBody) {
    init.body = encode(body);
    init.headers = { 'content-type': 'application/x-www-form-urlencoded' };
  }
  const res = await fetch(`${baseUrl}/?${encode(query)}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const TEST_REGION = 'cn-hangzhou';
export const TEST_GROUP = 'asg-bp1test0000000000001';
export const TEST_LB = 'lb-bp1test00000000000001';
export const TEST_VSG = 'rsp-bp1test0001';
export const TEST_ALB = 'sgp-bp1test00000000001';
export const TEST_DB = 'rm-bp1test000000000001';
export const TEST_KEY = {
  accessKeyId: 'LTAItestEmulatorKey01',
  accessKeySecret: 'test-emulator-secret-not-real',
} as const;

/** `i-bp1test` + counter: the IDs `buildTestScenario` generates (1-based). */
export function testInstanceId(n: number): string {
  return `i-bp1test${n.toString(36).padStart(13, '0')}`;
}

/**
 * One group (MinSize `minSize`) with `count` AutoCreated instances registered at weight 100 in one
 * CLB default server group, one vserver group (port 8080) and one ALB server group (port 8080),
 * plus one running RDS, with fast timings. Override anything with `extra`.
 */
export function buildTestScenario(
  opts: { count?: number; minSize?: number; timings?: Scenario['timings']; extra?: Partial<Scenario> } = {},
): Scenario {
  const s: Scenario = {
    name: 'contract-test',
    accessKeys: { [TEST_KEY.accessKeyId]: TEST_KEY.accessKeySecret },
    regions: [TEST_REGION],
    scalingGroups: [
      {
        id: TEST_GROUP,
        name: 'test-web',
        regionId: TEST_REGION,
        minSize: opts.minSize ?? 1,
        maxSize: 20_000,
        desiredCapacity: opts.count ?? 30,
        loadBalancerIds: [TEST_LB],
        vServerGroups: [{ loadBalancerId: TEST_LB, vServerGroupId: TEST_VSG, port: 8080, weight: 100 }],
        albServerGroups: [{ albServerGroupId: TEST_ALB, port: 8080, weight: 100 }],
        dbInstanceIds: [TEST_DB],
      },
    ],
    instanceGenerators: [
      {
        scalingGroupId: TEST_GROUP,
        count: opts.count ?? 30,
        idPrefix: 'bp1test',
        creationType: 'AutoCreated',
        startTime: '2026-01-05T02:00:00Z',
        intervalMinutes: 1,
        attachTo: {
          loadBalancerIds: [TEST_LB],
          vServerGroupIds: [TEST_VSG],
          albServerGroupIds: [TEST_ALB],
          port: 8080,
          weight: 100,
        },
      },
    ],
    loadBalancers: [
      {
        id: TEST_LB,
        regionId: TEST_REGION,
        vServerGroups: [{ id: TEST_VSG, name: 'test-8080' }],
        listeners: [{ port: 80 }, { port: 8080, vServerGroupId: TEST_VSG }],
      },
    ],
    albServerGroups: [{ id: TEST_ALB, regionId: TEST_REGION }],
    dbInstances: [{ id: TEST_DB, status: 'Running' }],
    timings: opts.timings ?? { activityDurationMs: 200, essDrainWaitMs: 60, albJobDurationMs: 80 },
  };
  return { ...s, ...(opts.extra ?? {}) };
}

/** Polls `check` until it returns a value other than undefined / false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5_000,
  intervalMs = 15,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Adds a group with the first group's settings but no members and no load balancers: where
 * "another actor" moves an instance out of the group a run works on.
 */
export function addEmptyGroup(scenario: Scenario, id: string): void {
  const first = scenario.scalingGroups?.[0];
  if (!first) throw new Error('the scenario has no scaling group to copy');
  scenario.scalingGroups?.push({
    ...first,
    id,
    name: `empty ${id}`,
    minSize: 0,
    desiredCapacity: 0,
    loadBalancerIds: [],
    vServerGroups: [],
    albServerGroups: [],
    dbInstanceIds: [],
  });
}
