import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, it, expect } from 'vitest';
import { run } from '../../src/cli';
import type { Io } from '../../src/cli/io';

/** `ess-scale-in --version` / `-V`: the package's version and the Temporal SDK's, read at run time. */
const root = path.resolve(__dirname, '../..');
const versionOf = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
const PACKAGE_VERSION = versionOf(path.join(root, 'package.json'));
const SDK_VERSION = versionOf(path.join(root, 'node_modules/@temporalio/client/package.json'));

function capture(): Io & { lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return {
    lines,
    out: (s: string) => lines.out.push(s),
    err: (s: string) => lines.err.push(s),
    rewrite: () => undefined,
    interactive: false,
  };
}

async function cli(...argv: string[]) {
  const io = capture();
  const code = await run(argv, io);
  return { code, out: io.lines.out.join('\n'), err: io.lines.err.join('\n') };
}

describe('ess-scale-in --version', () => {
  it('--version and -V print the package version and the Temporal SDK version, exit 0, nothing else', async () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(SDK_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const r = await cli(flag);
      expect(r, flag).toEqual({
        code: 0,
        out: `ess-scale-in ${PACKAGE_VERSION} (Temporal TypeScript SDK ${SDK_VERSION}, Node.js ${process.version})`,
        err: '',
      });
    }
  });

  it('with --json (before or after) or -o json: one JSON document on stdout', async () => {
    for (const argv of [
      ['--version', '--json'],
      ['--json', '-V'],
      ['--version', '-o', 'json'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.err).toBe('');
      expect(JSON.parse(r.out)).toEqual({
        ok: true,
        name: 'ess-scale-in',
        version: PACKAGE_VERSION,
        temporalSdk: SDK_VERSION,
        node: process.version,
      });
    }
  });

  it('is listed among the global options of --help', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\s+-V, --version\s+print the version/m);
  });

  it('the installed command (bin/ess-scale-in.js, under tsx) prints it too', { timeout: 60_000 }, () => {
    const out = execFileSync(process.execPath, [path.join(root, 'bin/ess-scale-in.js'), '--version'], {
      cwd: os.tmpdir(),
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(
      `ess-scale-in ${PACKAGE_VERSION} (Temporal TypeScript SDK ${SDK_VERSION}, Node.js ${process.version})`,
    );
  });

  it(
    'compiled as in the image (dist/cli/version.js beside /app/package.json), reads that package.json',
    {
      timeout: 60_000,
    },
    (ctx) => {
      // The image's layout: <app>/package.json, <app>/dist/cli/*.js, <app>/node_modules.
      const app = mkdtempSync(path.join(os.tmpdir(), 'ess-version-app-'));
      ctx.onTestFinished(() => rmSync(app, { recursive: true, force: true }));
      mkdirSync(path.join(app, 'dist', 'cli'), { recursive: true });
      writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'ess-scale-in', version: '9.8.7-image' }));
      symlinkSync(path.join(root, 'node_modules'), path.join(app, 'node_modules'), 'dir');
      for (const f of ['version', 'io']) {
        const source = readFileSync(path.join(root, 'src/cli', `${f}.ts`), 'utf8');
        const js = ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText;
        writeFileSync(path.join(app, 'dist', 'cli', `${f}.js`), js);
      }
      const out = execFileSync(
        process.execPath,
        [
          '-e',
          'console.log(JSON.stringify(require(process.argv[1]).versionInfo()))',
          path.join(app, 'dist/cli/version.js'),
        ],
        { cwd: os.tmpdir(), encoding: 'utf8' },
      );
      expect(JSON.parse(out)).toMatchObject({ version: '9.8.7-image', temporalSdk: SDK_VERSION });
    },
  );
});
