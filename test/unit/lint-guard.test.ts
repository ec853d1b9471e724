import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { ESLint } from 'eslint';

/** The rule that keeps workflow code deterministic must actually fire. */
describe('lint guard on src/workflows', () => {
  // The probes are not files of the TS project, so lint them without type information; the
  // import/global/property rules under test need none.
  const eslint = new ESLint({
    cwd: path.join(__dirname, '../..'),
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  });
  const probe = [
    "import fs from 'node:fs';",
    "import { request } from 'undici';",
    "import { createActivities } from '../activities';",
    "import { createCloudClient } from '../aliyun';",
    'export const x = [fs, request, createActivities, createCloudClient, Date.now(), process.env.X];',
  ].join('\n');

  it(
    'rejects Node built-ins, undici, activity implementations, the cloud client, ' + 'Date.now and env in workflows',
    async () => {
      const [res] = await eslint.lintText(probe, { filePath: path.join(__dirname, '../../src/workflows/probe.ts') });
      const rules = (res?.messages ?? []).map((m) => `${m.ruleId}@${m.line}`);
      expect(rules).toEqual(
        expect.arrayContaining([
          'no-restricted-imports@1',
          'no-restricted-imports@2',
          'no-restricted-imports@3',
          'no-restricted-imports@4',
          'no-restricted-properties@5',
          'no-restricted-globals@5',
        ]),
      );
    },
    30_000,
  );

  it('allows type-only activity imports in workflows, and anything outside workflows', async () => {
    const [wf] = await eslint.lintText(
      "import type { ScaleInActivities } from '../activities';\nexport type A = ScaleInActivities;\n",
      { filePath: path.join(__dirname, '../../src/workflows/probe.ts') },
    );
    expect(wf?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
    const [act] = await eslint.lintText("import fs from 'node:fs';\nexport const x = fs;\n", {
      filePath: path.join(__dirname, '../../src/activities/probe.ts'),
    });
    expect(act?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  }, 30_000);
});
