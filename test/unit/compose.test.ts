import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import ts from 'typescript';
import { parse } from 'yaml';
import { WORKER_ENVIRONMENT } from '../../src/config';
import { METRICS } from '../../src/observability/metrics';
import { runEmulatorCli } from '../../src/emulator/main';
import { BUILTIN_SCENARIOS } from '../../src/emulator/scenario';
import { ALL_SEARCH_ATTRIBUTES, searchAttributeCliArgs } from '../../src/shared/search-attributes';

/**
 * No Docker engine runs in CI, so docker-compose.yml, the Dockerfile and .env.example are checked
 * here against the code instead: every variable is one the worker reads, ports and names line up,
 * images are pinned, services are health-checked, entry points exist.
 */
const root = path.resolve(__dirname, '../..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string> | string[];
  env_file?: string | string[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  ports?: string[];
  healthcheck?: { test?: string | string[] };
  profiles?: string[];
  restart?: string;
  volumes?: string[];
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const dockerfile = read('Dockerfile');

function envOf(s: Service): Record<string, string> {
  if (!s.environment) return {};
  if (Array.isArray(s.environment))
    return Object.fromEntries(s.environment.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return s.environment;
}

/** `NAME=value` lines of .env.example, active and commented-out (`# NAME=value`). */
function envExample(): Array<{ name: string; value: string; active: boolean }> {
  return read('.env.example')
    .split('\n')
    .flatMap((line) => {
      const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      return m ? [{ name: m[2] as string, value: m[3] as string, active: !m[1] }] : [];
    });
}

function containerPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(String(p).split(':').at(-1)?.split('/')[0]));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** `dist/x/y.js` of the build ↔ `src/x/y.ts`, by tsconfig.build.json's rootDir and outDir. */
function sourceOf(distPath: string): string {
  const build = ts.parseConfigFileTextToJson('tsconfig.build.json', read('tsconfig.build.json')).config as {
    compilerOptions: { rootDir: string; outDir: string };
  };
  const rel = path.relative(build.compilerOptions.outDir, distPath.replace(/^\/app\//, ''));
  expect(rel.startsWith('..'), `${distPath} is outside the build output ${build.compilerOptions.outDir}`).toBe(false);
  return path.join(build.compilerOptions.rootDir, rel.replace(/\.js$/, '.ts'));
}

const known = new Set(WORKER_ENVIRONMENT.map((v) => v.name));

describe('docker-compose.yml', () => {
  it('references only services that exist, with conditions the targets can meet', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on)
        ? Object.fromEntries(s.depends_on.map((d) => [d, {}]))
        : (s.depends_on ?? {});
      for (const [dep, cond] of Object.entries(deps) as Array<[string, { condition?: string }]>) {
        expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
        if (cond.condition === 'service_healthy')
          expect(services[dep]?.healthcheck?.test, `${dep} needs a healthcheck for ${name}`).toBeDefined();
        if (cond.condition === 'service_completed_successfully')
          expect(services[dep]?.restart, `${dep} is a one-shot job`).toBe('no');
      }
    }
    for (const s of Object.values(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] as string;
        if (!source.startsWith('.') && !source.startsWith('/'))
          expect(Object.keys(compose.volumes ?? {}), `named volume ${source}`).toContain(source);
      }
    }
    expect(services.postgresql?.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
  });

  it('pins every image (no latest, no bare name) and health-checks every long-running service', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build !== undefined) {
        expect(s.image, `${name} is built locally`).toBe('ess-scale-in:local');
      } else {
        expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
        expect(s.image).not.toMatch(/:latest$/);
      }
      if (s.restart !== 'no') expect(s.healthcheck?.test, `${name} healthcheck`).toBeDefined();
    }
    expect(services.temporal?.image).toMatch(/^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
    expect(services.postgresql?.image).toMatch(/^postgres:\d+\.\d+/);
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(services.temporal?.environment).toMatchObject({ POSTGRES_SEEDS: 'postgresql' });
  });

  it('points the worker, the UI and the admin tools at the temporal service port', () => {
    const temporalPorts = containerPorts(services.temporal as Service);
    expect(temporalPorts).toContain(7233);
    const address = envExample().find((v) => v.name === 'TEMPORAL_ADDRESS' && v.active)?.value;
    expect(address).toBe('temporal:7233');
    for (const name of ['temporal-ui', 'temporal-search-attributes']) {
      const [host, port] = (envOf(services[name] as Service).TEMPORAL_ADDRESS ?? '').split(':');
      expect(host, name).toBe('temporal');
      expect(temporalPorts, name).toContain(Number(port));
    }
  });

  it('registers exactly the search attributes the workflows use, with their types', () => {
    const job = services['temporal-search-attributes'] as Service;
    const script = [job.command].flat().join('\n');
    const listed = [...script.matchAll(/\b(Ess\w+)=(\w+)/g)].map((m) => `${m[1]}=${m[2]}`);
    const expected = searchAttributeCliArgs().filter((a) => a !== '--search-attribute');
    expect(listed.sort()).toEqual(expected.sort());
    expect(listed).toHaveLength(ALL_SEARCH_ATTRIBUTES.length);
    expect(script).toMatch(
      /temporal operator search-attribute create --namespace default --name "\$\$name" --type "\$\$type"/,
    );
    expect(services.worker?.depends_on).toMatchObject({
      'temporal-search-attributes': { condition: 'service_completed_successfully' },
    });
  });

  it('gives the worker only variables the code reads, and .env.example documents all of them', () => {
    const worker = services.worker as Service;
    expect([worker.env_file].flat()).toEqual(['.env']);
    for (const name of Object.keys(envOf(worker))) expect(known, `worker environment ${name}`).toContain(name);
    const example = envExample();
    for (const v of example) expect(known, `.env.example sets ${v.name}`).toContain(v.name);
    const documented = new Set(example.map((v) => v.name));
    for (const v of WORKER_ENVIRONMENT) expect(documented, `.env.example documents ${v.name}`).toContain(v.name);
    // Secrets are never set to a value in the example.
    for (const v of example.filter((x) => WORKER_ENVIRONMENT.find((w) => w.name === x.name)?.secret)) {
      expect(v.active, `${v.name} stays commented out`).toBe(false);
    }
  });

  it('lists only variables something really reads, and every variable the worker code reads', () => {
    const srcFiles = walk(path.join(root, 'src')).filter((f) => f.endsWith('.ts'));
    // The list itself names every variable: leave it out of the search.
    const text = (f: string) => readFileSync(f, 'utf8').replace(/export const WORKER_ENVIRONMENT[\s\S]*?\n\];/, '');
    const ours = srcFiles.map(text).join('\n');
    const library = (dir: string) =>
      walk(path.join(root, 'node_modules', dir))
        .filter((f) => f.endsWith('.js'))
        .map((f) => readFileSync(f, 'utf8'))
        .join('\n');
    const sources: Record<string, string> = {
      'ess-scale-in': ours,
      '@alicloud/credentials': library('@alicloud/credentials/dist'),
      '@temporalio/envconfig': library('@temporalio/envconfig/lib'),
    };
    for (const v of WORKER_ENVIRONMENT) {
      const re = new RegExp(`(env\\.${v.name}\\b|env\\[['"]${v.name}['"]\\]|['"\`]${v.name}['"\`])`);
      expect(re.test(sources[v.readBy] as string), `${v.name} is read by ${v.readBy}`).toBe(true);
    }
    // The other direction: what the worker's own modules read from the environment is listed.
    const workerCode = srcFiles
      .filter((f) => /src\/(config|worker)\.ts$|src\/(observability|aliyun)\//.test(f))
      .map(text)
      .join('\n');
    const read = new Set([...workerCode.matchAll(/env(?:\.|\[['"])([A-Z][A-Z0-9_]{2,})/g)].map((m) => m[1] as string));
    for (const name of read) {
      if (name.startsWith('TEMPORAL_GRPC_META_')) continue;
      expect(known, `the worker reads ${name}`).toContain(name);
    }
    expect(read.size).toBeGreaterThan(10);
  });

  it('runs the emulator CLI with arguments it accepts, where the emulator block of .env.example points', async () => {
    const emu = services.emulator as Service;
    expect(emu.profiles).toEqual(['emulator']);
    const cmd = [emu.command].flat() as string[];
    expect(cmd.slice(0, 2)).toEqual(['ess-scale-in', 'emulator']);
    const port = Number(cmd[cmd.indexOf('--port') + 1]);
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('0.0.0.0');
    expect(containerPorts(emu)).toContain(port);
    const scenario = cmd[cmd.indexOf('--scenario') + 1] as string;
    expect(Object.keys(BUILTIN_SCENARIOS)).toContain(scenario);
    // The real argument parser accepts them (a trailing --help stops it before listening).
    const out: string[] = [];
    const err: string[] = [];
    expect(
      await runEmulatorCli([...cmd.slice(2), '--help'], { out: (l) => out.push(l), err: (l) => err.push(l) }),
    ).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toMatch(/Usage: ess-scale-in emulator/);

    const example = envExample();
    for (const name of ['ESS_ENDPOINT', 'SLB_ENDPOINT', 'ALB_ENDPOINT']) {
      expect(
        example.map((v) => v.value),
        name,
      ).toContain(`http://emulator:${port}`);
    }
    const keys = (BUILTIN_SCENARIOS[scenario] as { accessKeys?: Record<string, string> }).accessKeys ?? {};
    const id = example.find((v) => v.name === 'ALIBABA_CLOUD_ACCESS_KEY_ID' && v.value in keys)?.value as string;
    expect(id).toBeDefined();
    expect(example.some((v) => v.name === 'ALIBABA_CLOUD_ACCESS_KEY_SECRET' && v.value === keys[id])).toBe(true);
    // The `ess-scale-in` command of the image runs the compiled CLI, which has the emulator command.
    const shim = /printf '#!\/bin\/sh\\nexec node (\S+) "\$@"\\n' > \/usr\/local\/bin\/ess-scale-in/.exec(dockerfile);
    expect(shim).not.toBeNull();
    const cli = sourceOf(shim?.[1] as string);
    expect(read(cli)).toMatch(/if \(require\.main === module\) main\(\)/);
    expect(read('src/cli/commands/processes.ts')).toMatch(/\.command\('emulator'\)/);
  });

  it('publishes the metrics port the worker is configured with', () => {
    const metricsPort = Number(envExample().find((v) => v.name === 'METRICS_PORT' && v.active)?.value);
    expect(metricsPort).toBeGreaterThan(0);
    expect(containerPorts(services.worker as Service)).toContain(metricsPort);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${metricsPort}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`METRICS_PORT=${metricsPort}\\b`));
    expect(services.worker?.healthcheck?.test).toEqual(['CMD', 'node', 'dist/observability/healthcheck.js']);
  });
});

describe('Dockerfile', () => {
  // Running the build itself (compile, bundle, start the output) is slow: test/build/image-build.test.ts.
  it('is multi-stage on a pinned Node 20 bookworm-slim image and runs as a non-root user', () => {
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(image).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=20\./);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\\\n\s+CMD \["node", "dist\/observability\/healthcheck\.js"\]$/m);
  });

  it('starts compiled files that the build produces from existing sources', () => {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    expect(cmd).toEqual(['node', 'dist/worker.js']);
    for (const dist of ['dist/worker.js', 'dist/observability/healthcheck.js']) {
      const src = sourceOf(dist);
      expect(existsSync(path.join(root, src)), src).toBe(true);
      expect(read(src), src).toMatch(/if \(require\.main === module\)/);
    }
    // The bundle the image builds is the one WORKFLOW_BUNDLE_PATH names, and the worker knows the flag.
    const written = /node dist\/worker\.js --write-workflow-bundle (\S+)/.exec(dockerfile)?.[1];
    expect(`/app/${written}`).toBe(/WORKFLOW_BUNDLE_PATH=(\S+)/.exec(dockerfile)?.[1]);
    expect(read('src/worker.ts')).toMatch(/argv\[0\] === '--write-workflow-bundle'/);
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['.env', 'node_modules', 'dist']));
  });
});

describe('docs/operations.md', () => {
  const docs = read('docs/operations.md');
  it('documents every worker variable and every product metric with its type', () => {
    for (const v of WORKER_ENVIRONMENT) expect(docs, v.name).toContain(`\`${v.name}\``);
    for (const m of Object.values(METRICS)) {
      const row = docs.split('\n').find((l) => l.startsWith(`| \`${m.name}\``));
      expect(row, m.name).toBeDefined();
      expect(row, m.name).toContain(m.kind);
    }
  });

  it('says plainly that the image and compose are not run in CI, and names the images compose pins', () => {
    expect(docs).toMatch(/\*\*Not run in CI\.\*\*/);
    for (const s of Object.values(services))
      if (s.image && s.build === undefined) expect(docs, s.image).toContain(s.image);
  });
});
