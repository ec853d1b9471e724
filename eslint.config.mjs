// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import prettier from 'eslint-config-prettier';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.demo/**', '.scratch/**', 'test-artifacts/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Forgetting to await an activity, a timer or an HTTP call hides failures.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Plain JavaScript scripts run on Node.
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no env, no activity implementations.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code must not use Node built-ins (no I/O in workflows).',
            })),
            { name: 'undici', message: 'Workflow code must not do HTTP; call an activity.' },
            { name: '@temporalio/activity', message: 'Workflow code must not import activity APIs.' },
            { name: '@temporalio/client', message: 'Workflow code must not import the client.' },
            { name: '@temporalio/worker', message: 'Workflow code must not import the worker.' },
          ],
          patterns: [
            {
              group: ['**/activities', '**/activities/*', '!**/activities/types'],
              allowTypeImports: true,
              message: 'Import activity *types* only (import type).',
            },
            {
              group: ['**/aliyun/*', '**/aliyun', '**/emulator/*', '**/emulator'],
              message: 'Workflow code must not import the cloud client or emulator.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No env or config reads in workflows: the input carries everything.' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'Use workflow time from the input or sleep/condition, not Date.now().',
        },
      ],
    },
  },
  // Layout belongs to Prettier (npm run format); ESLint keeps only rules about meaning.
  prettier,
  {
    // After eslint-config-prettier, which turns max-len off: Prettier does not split strings,
    // template literals or comments, so this keeps those within Prettier's width too.
    files: ['**/*.ts', '**/*.mts', '**/*.mjs', '**/*.js', '**/*.cjs'],
    rules: { 'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: true }] },
  },
  {
    // Short functions with names that say what they hold. Data tables are object literals, not
    // functions, so they are not counted.
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
);
