import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { registerSearchAttributes, resolveJavaTestServer } from '../../src/devtools/temporal-dev-server';

/** The shared dev server started by global-setup, reached without spawning anything. */
export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
}

/** The prebuilt workflow bundle, for `Worker.create({ workflowBundle })`. */
export function workflowBundle(): { codePath: string } {
  return { codePath: inject('workflowBundlePath') };
}

/** Starts of the Java server tried before giving up: see timeSkippingEnv. */
const TIME_SKIPPING_STARTS = 3;

/**
 * A Java time-skipping test server of our own, for tests whose timers are long. The SDK gives the
 * JVM a fixed 5 s to listen, which a 2-core machine busy with the other test files can miss (seen
 * in a full `npm test`): a start that times out is tried again.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      const env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: resolveJavaTestServer() } },
      });
      await registerSearchAttributes(env.connection);
      return env;
    } catch (e) {
      const slowStart = e instanceof Error && /did not start within/.test(e.message);
      if (!slowStart || attempt >= TIME_SKIPPING_STARTS) throw e;
    }
  }
}

/** Unique per test so parallel files never share a queue or an ID. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
