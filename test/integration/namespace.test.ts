import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../../src/cli';
import type { Io } from '../../src/cli/io';
import { ScaleInClient, SearchAttributesMissingError } from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { startWorker } from '../../src/worker';
import { staticCredentials } from '../../src/aliyun';

/**
 * A namespace without the project's search attributes, as on a plain `temporal server start-dev`:
 * starts and workers say which attributes are missing and how to register them; setup-namespace
 * registers them.
 */
describe('search attributes: a namespace without them, and setup-namespace', () => {
  const address = inject('temporalAddress');
  const namespace = `ess-ns-${randomUUID().slice(0, 8)}`;
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await waitFor(
      async () =>
        connection.workflowService.describeNamespace({ namespace }).then(
          () => true,
          () => false,
        ),
      30_000,
      200,
    );
  });
  afterAll(async () => {
    await connection?.close();
  });

  const temporal = { address, namespace, taskQueue: 'ess-ns-test', apiKey: undefined, tls: undefined };
  const input = {
    regionId: 'cn-hangzhou',
    scalingGroupId: 'asg-bp1nsnsnsnsnsnsnsnsns1',
    instanceIds: ['i-bp1nsnsnsnsnsnsnsns01'],
    dryRun: true,
  };
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (s) => out.push(s), err: (s) => err.push(s), rewrite: () => undefined, interactive: false };
    const code = await run([...args, '--address', address, '--namespace', namespace], io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('a start names what is missing and the command; a worker refuses to start; setup-namespace fixes it', async () => {
    const client = await ScaleInClient.connect({ client: new Client({ connection, namespace }), temporal });
    const refused = await client.start(input).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SearchAttributesMissingError);
    expect((refused as SearchAttributesMissingError).missing.map((m) => m.name).sort()).toEqual(
      ALL_SEARCH_ATTRIBUTES.map((a) => a.name).sort(),
    );
    expect((refused as Error).message).toContain('ess-scale-in setup-namespace');
    expect((refused as Error).message).toContain('EssInstancesTotal (Int)');

    const cliStart = await cli([
      'start',
      '--region',
      input.regionId,
      '--group',
      input.scalingGroupId,
      '--instances',
      input.instanceIds[0] ?? '',
      '--dry-run',
    ]);
    expect(cliStart.code).toBe(1);
    expect(cliStart.err).toMatch(
      /lacks the search attribute\(s\) .*EssScalingGroupId \(Keyword\).*ess-scale-in setup-namespace/,
    );

    await expect(
      startWorker({
        temporal,
        credentials: staticCredentials('LTAIunusedkey', 'unused'),
        endpoints: { ess: 'http://127.0.0.1:9', slb: 'http://127.0.0.1:9', alb: 'http://127.0.0.1:9' },
        shutdownGraceTime: '1s',
      }),
    ).rejects.toBeInstanceOf(SearchAttributesMissingError);

    const setup = await cli(['setup-namespace']);
    expect(setup.code, setup.err).toBe(0);
    expect(setup.out).toBe(`namespace ${namespace}: added ${ALL_SEARCH_ATTRIBUTES.map((a) => a.name).join(', ')}`);
    const again = await cli(['setup-namespace', '--json']);
    expect(JSON.parse(again.out)).toMatchObject({
      ok: true,
      added: [],
      alreadyThere: expect.arrayContaining(['EssPhase']),
    });

    // Registered: the same start is accepted (nothing runs it here; it is terminated).
    let started: { workflowId: string } | undefined;
    await waitFor(
      async () => {
        started = await client.start(input).catch(() => undefined);
        return started !== undefined;
      },
      30_000,
      500,
    );
    await client.handle(started?.workflowId ?? '').terminate('test: no worker in this namespace');
  });
});
