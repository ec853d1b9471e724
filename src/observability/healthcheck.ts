import { metricsBindAddressFromEnv } from './metrics';

/**
 * The container health check (`HEALTHCHECK` in the Dockerfile): healthy when the worker's
 * Prometheus endpoint answers and shows a registered worker (task slots exported by the SDK once
 * `Worker.create` succeeded). Needs METRICS_PORT or TEMPORAL_METRICS_BIND_ADDRESS (the image sets
 * METRICS_PORT=9464). Exit 0 healthy, 1 not.
 */
export async function checkHealth(
  env: Readonly<Record<string, string | undefined>> = process.env,
  timeoutMs = 3000,
): Promise<{ ok: boolean; why: string }> {
  let bind: string | undefined;
  try {
    bind = metricsBindAddressFromEnv(env);
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
  if (!bind) return { ok: false, why: 'no metrics endpoint configured (set METRICS_PORT): nothing to check' };
  const port = bind.slice(bind.lastIndexOf(':') + 1);
  const host = bind.slice(0, bind.lastIndexOf(':'));
  const target = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  try {
    const res = await fetch(`http://${target}:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return { ok: false, why: `metrics endpoint answered HTTP ${res.status}` };
    const text = await res.text();
    if (!/^temporal_worker_task_slots_available\{/m.test(text)) return { ok: false, why: 'no worker registered yet' };
    return { ok: true, why: 'worker registered, metrics served' };
  } catch (e) {
    return { ok: false, why: `metrics endpoint unreachable: ${e instanceof Error ? e.message : String(e)}` };
  }
}

if (require.main === module) {
  void checkHealth().then((r) => {
    process.stdout.write(`${r.ok ? 'healthy' : 'unhealthy'}: ${r.why}\n`);
    process.exit(r.ok ? 0 : 1);
  });
}
