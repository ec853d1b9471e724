import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createCloudClient, staticCredentials, type ClosableCloudClient } from '../../src/aliyun';
import { ScaleInClient } from '../../src/client';
import { freePort, startDevServer, type RunningDevServer } from '../../src/devtools/temporal-dev-server';
import { EmulatorAdminClient, startEmulator, type RunningEmulator } from '../../src/emulator';
import { FAST, SMALL, uniqueSmallScenario } from '../harness/stack';
import { uniqueName, workflowBundle } from '../harness/temporal';

/**
 * The Temporal Web UI in a real browser (Debian's Chromium driven by playwright-core): a dev server
 * of its own with the UI on, a scale-in against the emulator, then the list filtered by the
 * EssScalingGroupId search attribute, the run's static summary, search attributes and activity
 * summaries, as an operator would see them; then a run with a failed instance and its current details
 * (every row in view, the failed instance and its reason, no fraction glyph). Screenshots go to
 * test-artifacts/ui/.
 */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../test-artifacts/ui');
const UI_TIMEOUT = 30_000;

describe('Temporal UI shows a scale-in run', () => {
  let server: RunningDevServer | undefined;
  let emulator: RunningEmulator | undefined;
  let cloud: ClosableCloudClient | undefined;
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> = Promise.resolve();
  let browser: Browser | undefined;
  let stack: Promise<UiStack> | undefined;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startDevServer({ port: await freePort(), uiPort: await freePort() });
  });

  afterAll(async () => {
    await browser?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await cloud?.close();
    await emulator?.close();
    await server?.stop();
  });

  /** Chromium, the emulator, a worker and a client: set up once, by the first test that needs them. */
  async function setUp(): Promise<UiStack> {
    // Not skipped when missing: CI installs Chromium in `npm run setup` (scripts/setup.sh), so its
    // absence is a set-up fault.
    expect(
      existsSync(CHROMIUM),
      `${CHROMIUM} not found: run \`npm run setup\` (installs Debian's chromium package)`,
    ).toBe(true);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    if (!server?.uiUrl) throw new Error('the dev server has no UI');
    const { scenario, group } = uniqueSmallScenario();
    emulator = await startEmulator({ scenario });
    cloud = createCloudClient({
      credentials: staticCredentials(SMALL.keyId, SMALL.secret),
      endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url },
    });
    const taskQueue = uniqueName('ui');
    nativeConnection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: createActivities({ cloud }),
      shutdownGraceTime: '2s',
    });
    running = worker.run();
    connection = await Connection.connect({ address: server.address });
    const client = await ScaleInClient.connect({
      client: new Client({ connection }),
      temporal: { address: server.address, namespace: 'default', taskQueue, apiKey: undefined, tls: undefined },
    });
    return { browser, uiUrl: server.uiUrl, emulator, client, group };
  }

  it('lists the run by its search-attribute filter; shows summary, search attributes, activity summaries', async () => {
    stack ??= setUp();
    const { browser, uiUrl, emulator, client, group } = await stack;
    const ids = emulator.state
      .snapshot()
      .instances.filter((i) => i.scalingGroupId === group)
      .map((i) => i.instanceId)
      .sort()
      .slice(0, 4);
    const { workflowId, runId } = await client.start({
      regionId: SMALL.region,
      scalingGroupId: group,
      instanceIds: ids,
      batchSize: 2,
      drain: { timeoutSeconds: 0 },
      advanced: FAST,
    });
    const result = await client.result(workflowId);
    expect(result.outcome).toBe('completed');
    // A second run, of another group, that the filter must leave out (no worker polls its queue).
    const otherGroup = `asg-other${uniqueName('x').slice(2)}`;
    const other = await client.start(
      {
        regionId: SMALL.region,
        scalingGroupId: otherGroup,
        instanceIds: ['i-bp1other00000000001'],
        drain: { timeoutSeconds: 0 },
      },
      { taskQueue: uniqueName('idle') },
    );

    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT);
    try {
      // 1. The list, unfiltered (both runs) and filtered by EssScalingGroupId (only ours).
      await page.goto(`${uiUrl}/namespaces/default/workflows`);
      await expect
        .poll(() => visibleLinks(page, [workflowId, other.workflowId]), { timeout: UI_TIMEOUT, interval: 1000 })
        .toEqual([workflowId, other.workflowId]);
      const query = `EssScalingGroupId="${group}"`;
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      const row = page.getByRole('link', { name: workflowId, exact: true }).first();
      await row.waitFor();
      await page.getByText('1 Workflow').first().waitFor();
      await page.getByText('Completed', { exact: true }).first().waitFor();
      expect(await visibleLinks(page, [workflowId, other.workflowId])).toEqual([workflowId]);
      await page.screenshot({ path: path.join(SHOTS, 'list-filtered.png'), fullPage: true });

      // 2. The run: its history shows each activity's summary on the timeline.
      await row.click();
      await page.waitForURL(new RegExp(`/workflows/${encodeURIComponent(workflowId)}/${runId}/history`));
      await page.getByText('RemoveInstances batch 1/2 (2 instances)').first().waitFor();
      await page.getByText('RemoveInstances batch 2/2 (2 instances)').first().waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'run-history.png'), fullPage: true });

      // 3. User metadata: the static summary (rendered in its own frame) and the activity summaries.
      await page.getByRole('tab', { name: 'User Metadata' }).first().click();
      await page.waitForURL(/\/user-metadata$/);
      const summary = `Scale in ${group} (${SMALL.region}): remove 4 instance(s)`;
      await expect.poll(() => frameTexts(page), { timeout: UI_TIMEOUT, interval: 500 }).toContain(summary);
      expect(summary).toMatch(/^Scale in /);
      for (const s of [
        'Preflight: 4 instance(s)',
        'Drain batch 1/2 (2 instances, weight)',
        'RemoveInstances batch 1/2 (2 instances)',
        'RemoveInstances batch 2/2 (2 instances)',
        // removeBatch follows its scaling activity itself (remove-and-follow): its summary says so.
        'RemoveInstances batch 2/2 (2 instances), then poll its scaling activity',
      ]) {
        await page.getByText(s).first().waitFor();
      }
      await page.screenshot({ path: path.join(SHOTS, 'run-user-metadata.png'), fullPage: true });

      // 4. Search attributes, with the values the workflow upserted on the way.
      await page.getByRole('tab', { name: 'Search Attributes' }).first().click();
      await page.waitForURL(/\/search-attributes$/);
      await page.getByText(`"EssScalingGroupId": "${group}"`).first().waitFor();
      const text = await page.innerText('main');
      expect(text).toContain(`"EssRegionId": "${SMALL.region}"`);
      expect(text).toContain('"EssInstancesRemoved": 4');
      expect(text).toContain('"EssPhase": "Completed"');
      await page.screenshot({ path: path.join(SHOTS, 'run-search-attributes.png'), fullPage: true });
    } catch (e) {
      await page.screenshot({ path: path.join(SHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
      throw e;
    } finally {
      await page.close();
    }
  });

  it('current details fit: every summary row in view, failed instances with reasons, "batch 2 of 3"', async () => {
    stack ??= setUp();
    const { browser, uiUrl, emulator, client, group } = await stack;
    // Six instances the first test left alone, in three batches; the second batch's scaling activity
    // ends Warning with one of them failed, and the cloud's code and message for it.
    const ids = emulator.state
      .snapshot()
      .instances.filter((i) => i.scalingGroupId === group)
      .map((i) => i.instanceId)
      .sort()
      .slice(4, 10);
    const failed = ids[3] as string;
    const code = 'IncorrectInstanceStatus';
    const message = 'The current status of the instance does not support this operation.';
    await new EmulatorAdminClient(emulator.url).settings({
      activityOutcomes: [
        {
          match: { instanceIds: [failed] },
          status: 'Warning',
          failInstanceIds: [failed],
          errorCode: code,
          errorMessage: message,
          times: 1,
        },
      ],
    });
    const { workflowId, runId } = await client.start({
      regionId: SMALL.region,
      scalingGroupId: group,
      instanceIds: ids,
      batchSize: 2,
      onBatchFailure: 'continue',
      drain: { timeoutSeconds: 0 },
      advanced: FAST,
    });
    const result = await client.result(workflowId);
    expect(result.outcome).toBe('completed-with-failures');
    expect(result.notRemoved.map((r) => [r.instanceId, r.outcome])).toEqual([[failed, 'failed']]);

    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT);
    try {
      await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/user-metadata`);
      const frame = await detailsFrame(page, `${group} in ${SMALL.region}`);
      const text = await frame.locator('body').innerText();
      await page.screenshot({ path: path.join(SHOTS, 'run-current-details.png'), fullPage: true });
      // The summary rows, in the order an operator reads them.
      const rows = [
        'Removed: 5 of 6',
        'Not removed: 1 (failed 1 · restored 0 · skipped 0)',
        'Remaining: 0',
        'Batches finished: 3 of 3',
        'Last finished: batch 3 of 3 (2 instances): succeeded',
      ];
      for (const row of rows) expect(text).toContain(row);
      expect(rows.map((r) => text.indexOf(r))).toEqual(rows.map((r) => text.indexOf(r)).sort((a, b) => a - b));
      // The failed instance, its batch, and the cloud's reason (code and message).
      const failedRow = text.split('\n').find((l) => l.startsWith(`${failed} (batch 2 of 3): `)) ?? '';
      expect(failedRow).toContain(`${code}: ${message}`);
      // No fraction: "batch 2/3" used to render as a 2⁄3 glyph.
      expect(text).toContain('Last error: batch 2 of 3 (2 instances)');
      expect(text).not.toMatch(/[\u2044\u2153-\u215e\u00bc-\u00be]|\d\/\d/);
      // Nothing is cut: the UI sizes the frame once, from its body's height without the margins.
      expect(await blocksOutOfView(frame)).toEqual([]);

      // The list as docs/operations.md sets it up: a visibility query, then the Ess* columns added with
      // the table's configuration button ("Configure Workflows Table").
      const query = `EssScalingGroupId="${group}" AND EssInstancesFailed > 0`;
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      await page.getByRole('link', { name: workflowId, exact: true }).first().waitFor();
      await page.getByText('1 Workflow').first().waitFor();
      await page.getByTestId('workflows-summary-table-configuration-button').click();
      const columns = ['EssPhase', 'EssInstancesTotal', 'EssInstancesRemoved', 'EssInstancesFailed'];
      for (const c of columns) await page.getByRole('button', { name: `Add ${c} column`, exact: true }).click();
      await page.getByTestId('drawer-close-button').click();
      const headers = (await page.locator('thead th').allInnerTexts()).map((t) => t.trim());
      const cells = (await page.locator('tbody tr').first().locator('td').allInnerTexts()).map((t) => t.trim());
      expect(columns.map((c) => cells[headers.indexOf(c)])).toEqual(['Completed', '6', '5', '1']);
      await page.screenshot({ path: path.join(SHOTS, 'list-ess-columns.png'), fullPage: true });
    } catch (e) {
      await page.screenshot({ path: path.join(SHOTS, 'failure-details.png'), fullPage: true }).catch(() => undefined);
      throw e;
    } finally {
      await page.close();
    }
  });
});

interface UiStack {
  browser: Browser;
  uiUrl: string;
  emulator: RunningEmulator;
  client: ScaleInClient;
  group: string;
}

/** The frame of the run's current details (the one whose text has this line), once the UI has rendered it. */
async function detailsFrame(page: Page, line: string): Promise<Frame> {
  let found: Frame | undefined;
  await expect
    .poll(
      async () => {
        for (const f of page.frames()) {
          const t = await f
            .locator('body')
            .innerText({ timeout: 1000 })
            .catch(() => '');
          if (t.includes(line)) found = f;
        }
        return found !== undefined;
      },
      { timeout: UI_TIMEOUT, interval: 500 },
    )
    .toBe(true);
  if (!found) throw new Error(`no frame shows "${line}"`);
  return found;
}

/** The texts of the frame's paragraphs, list items and table rows that end below the frame's visible height. */
async function blocksOutOfView(frame: Frame): Promise<string[]> {
  const box = await (await frame.frameElement()).boundingBox();
  if (!box) throw new Error('the details frame is not displayed');
  const cut: string[] = [];
  for (const block of await frame.locator('p, li, tr').all()) {
    const t = (await block.innerText()).trim();
    const b = await block.boundingBox();
    if (t && (!b || b.y + b.height > box.y + box.height + 0.5)) cut.push(t);
  }
  return cut;
}

/** Which of these workflow IDs the page shows as links, in the order given. */
async function visibleLinks(page: Page, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) if (await page.getByRole('link', { name: id, exact: true }).count()) out.push(id);
  return out;
}

/** The UI renders markdown (summary, details) in frames of their own: their texts, trimmed. */
async function frameTexts(page: Page): Promise<string[]> {
  const texts: string[] = [];
  for (const f of page.frames()) {
    texts.push(
      (
        await f
          .locator('body')
          .innerText({ timeout: 1000 })
          .catch(() => '')
      ).trim(),
    );
  }
  return texts;
}
