import { apiRateRulesFromEnv } from '../config';
import { AlbClient } from './alb';
import { ClbClient } from './clb';
import type { CredentialsProvider } from './credentials';
import { resolveEndpoint, validateEndpoint } from './endpoints';
import type { EndpointOverrides } from './endpoints';
import { EssClient } from './ess';
import { NlbClient } from './nlb';
import { processApiRateLimiter, type ApiRateLimiter } from './rate-limiter';
import { RpcClient } from './rpc-client';
import type { RpcCallEvent } from './rpc-client';
import type { CloudClient } from './types';
import type { Product } from './wire';

export * from './alb';
export * from './clb';
export * from './credentials';
export * from './endpoints';
export * from './errors';
export * from './ess';
export * from './nlb';
export * from './rate-limiter';
export * from './rpc-client';
export * from './signer';
export * from './types';
export * from './wire';

export interface CreateCloudClientOptions {
  credentials: CredentialsProvider;
  /** Origins that replace the per-region defaults, e.g. the emulator's `http://127.0.0.1:18080`. */
  endpoints?: EndpointOverrides | undefined;
  timeoutMs?: number | undefined;
  onCall?: ((event: RpcCallEvent) => void) | undefined;
  keepAliveTimeoutMs?: number | undefined;
  /**
   * Paces the calls per product and action. Default: the process-wide limiter of
   * `ESS_SCALE_IN_API_RATE` (none when unset); `null`: no pacing.
   */
  rateLimiter?: ApiRateLimiter | null | undefined;
}

export type ClosableCloudClient = CloudClient & { close(): Promise<void> };

/** ESS, CLB, ALB and NLB sharing one signed RPC client and its connection pool. */
export function createCloudClient(opts: CreateCloudClientOptions): ClosableCloudClient {
  const overrides: EndpointOverrides = {};
  for (const [product, url] of Object.entries(opts.endpoints ?? {}) as Array<[Product, string | undefined]>) {
    if (url) overrides[product] = validateEndpoint(url, `endpoints.${product}`);
  }
  const rpc = new RpcClient({
    credentials: opts.credentials,
    endpoint: (product, regionId) => resolveEndpoint(product, regionId, overrides),
    timeoutMs: opts.timeoutMs,
    onCall: opts.onCall,
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
    rateLimiter:
      opts.rateLimiter === undefined ? processApiRateLimiter(apiRateRulesFromEnv()) : (opts.rateLimiter ?? undefined),
  });
  return {
    ess: new EssClient(rpc),
    clb: new ClbClient(rpc),
    alb: new AlbClient(rpc),
    nlb: new NlbClient(rpc),
    close: () => rpc.close(),
  };
}
