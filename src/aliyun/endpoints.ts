import type { Product } from './wire';

/**
 * Regions served by the central ESS and CLB hostnames. Every other region has its own
 * `<product>.<region>.aliyuncs.com`; ALB has no central hostname at all.
 */
const CENTRAL_REGIONS: ReadonlySet<string> = new Set([
  'cn-qingdao',
  'cn-beijing',
  'cn-hangzhou',
  'cn-shanghai',
  'cn-shenzhen',
  'cn-hongkong',
  'ap-southeast-1',
  'us-east-1',
]);

/** The region is interpolated into a hostname, so anything beyond DNS-label characters is refused. */
const REGION_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export type EndpointOverrides = Partial<Record<Product, string>>;

/** A malformed endpoint override; `variable` names the setting to fix. */
export class EndpointConfigError extends Error {
  override readonly name = 'EndpointConfigError' as const;
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

export function defaultEndpoint(product: Product, regionId: string): string {
  if (!REGION_ID.test(regionId))
    throw new RangeError(`regionId must look like "cn-hangzhou", got ${JSON.stringify(regionId)}`);
  // ALB and NLB have regional hostnames only (nlb.<region>.aliyuncs.com, as the official SDKs' "regional" rule).
  if (product === 'alb' || product === 'nlb') return `https://${product}.${regionId}.aliyuncs.com`;
  return CENTRAL_REGIONS.has(regionId)
    ? `https://${product}.aliyuncs.com`
    : `https://${product}.${regionId}.aliyuncs.com`;
}

/**
 * Checks an override such as `http://127.0.0.1:18080` and returns its origin. Paths, queries and
 * user-info are refused: requests always go to `/`, and credentials never travel in URLs.
 */
export function validateEndpoint(value: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EndpointConfigError(variable, `not a valid URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EndpointConfigError(variable, `must use http or https, got ${JSON.stringify(url.protocol)}`);
  }
  if (url.username || url.password) throw new EndpointConfigError(variable, 'must not contain user info');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new EndpointConfigError(
      variable,
      `must be an origin like http://127.0.0.1:18080 (no path, query or fragment), got ${JSON.stringify(value)}`,
    );
  }
  return url.origin;
}

const ENV_VARS: Readonly<Record<Product, string>> = {
  ess: 'ESS_ENDPOINT',
  slb: 'SLB_ENDPOINT',
  alb: 'ALB_ENDPOINT',
  nlb: 'NLB_ENDPOINT',
};

/** Reads `ESS_ENDPOINT`, `SLB_ENDPOINT`, `ALB_ENDPOINT` and `NLB_ENDPOINT`; empty or unset means "use the default". */
export function endpointsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): EndpointOverrides {
  const out: EndpointOverrides = {};
  for (const product of Object.keys(ENV_VARS) as Product[]) {
    const variable = ENV_VARS[product];
    const value = env[variable]?.trim();
    if (value) out[product] = validateEndpoint(value, variable);
  }
  return out;
}

/** An override wins; otherwise the per-region default. */
export function resolveEndpoint(product: Product, regionId: string, overrides: EndpointOverrides = {}): string {
  return overrides[product] ?? defaultEndpoint(product, regionId);
}
