/**
 * Modules only some commands need, loaded on first use: the worker SDK's native module alone costs
 * about half a second, which `status` or `list` should not pay. `require` rather than `import()`:
 * the bin registers tsx's CommonJS hook only, and a dynamic import would bypass it.
 */
import type * as WorkerModule from '../worker';
import type * as EmulatorCliModule from '../emulator/main';
import type * as DemoModule from './demo/run';

/* eslint-disable @typescript-eslint/no-require-imports */
export const loadWorker = (): typeof WorkerModule => require('../worker');
export const loadEmulatorCli = (): typeof EmulatorCliModule => require('../emulator/main');
export const loadDemo = (): typeof DemoModule => require('./demo/run');
