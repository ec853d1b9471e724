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

/** A Java time-skipping test server of our own, for tests whose timers are long. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: resolveJavaTestServer() } },
  });
  await registerSearchAttributes(env.connection);
  return env;
}

/** Unique per test so parallel files never share a queue or an ID. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
