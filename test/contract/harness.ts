import { createCloudClient, staticCredentials, type ClosableCloudClient } from '../../src/aliyun';
import { EmulatorAdminClient, startEmulator, type RunningEmulator } from '../../src/emulator';
import { buildTestScenario, TEST_KEY } from '../../src/emulator/testing';

export interface ContractEnv {
  emu: RunningEmulator;
  admin: EmulatorAdminClient;
  /** The real cloud client, pointed at the emulator for all three products. */
  client: ClosableCloudClient;
}

/** An emulator on 127.0.0.1 (port 0) with the test scenario, its admin client and the real cloud client. */
export async function startContractEnv(scenario: Parameters<typeof buildTestScenario>[0] = {}): Promise<ContractEnv> {
  const emu = await startEmulator({ scenario: buildTestScenario(scenario) });
  return {
    emu,
    admin: new EmulatorAdminClient(emu.url),
    client: createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
      endpoints: { ess: emu.url, slb: emu.url, alb: emu.url, nlb: emu.url },
    }),
  };
}

export async function stopContractEnv(env: Partial<ContractEnv>): Promise<void> {
  await env.client?.close();
  await env.emu?.close();
}
