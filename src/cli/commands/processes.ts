import type { Command } from 'commander';
import { globalsOf, temporalConfig } from '../connect';
import { EXIT, printJson, type Done, type Io } from '../io';
import { loadEmulatorCli, loadWorker } from '../lazy';

/** `worker` and `emulator` run until a signal; loaded lazily so other commands start fast. */
export function registerProcesses(program: Command, io: Io, done: Done): void {
  registerWorker(program, io, done);
  registerEmulator(program, io, done);
}

function registerWorker(program: Command, io: Io, done: Done): void {
  program
    .command('worker')
    .summary('run a worker (activities + workflows) until Ctrl-C')
    .description(
      'Run the ess-scale-in worker on the configured task queue until SIGINT/SIGTERM (graceful: running ' +
        'activities get 30 s). Alibaba Cloud credentials come from the default chain ' +
        '(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, CLI profile, ECS RAM role…); ESS_ENDPOINT, SLB_ENDPOINT, ' +
        'ALB_ENDPOINT override the endpoints (e.g. the emulator).',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ TEMPORAL_ADDRESS=temporal.internal:7233 ess-scale-in worker
  $ ESS_ENDPOINT=http://127.0.0.1:18080 SLB_ENDPOINT=http://127.0.0.1:18080 ALB_ENDPOINT=http://127.0.0.1:18080 \\
      ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIdemoEmulatorKey01 ALIBABA_CLOUD_ACCESS_KEY_SECRET=... ess-scale-in worker`,
    )
    .action(async (_flags: unknown, self: Command) => {
      const g = globalsOf(self);
      const temporal = temporalConfig(g);
      const { startWorker } = loadWorker();
      const { done: stopped } = await startWorker({ temporal });
      const where = { address: temporal.address, namespace: temporal.namespace, taskQueue: temporal.taskQueue };
      if (g.json) printJson(io, { ok: true, worker: 'running', ...where });
      else
        io.err(
          `ess-scale-in worker polling task queue "${where.taskQueue}" in namespace "${where.namespace}" ` +
            `at ${where.address}; Ctrl-C stops it`,
        );
      await stopped;
      done(EXIT.ok);
    });
}

function registerEmulator(program: Command, io: Io, done: Done): void {
  program
    .command('emulator')
    .summary('run the ESS / SLB / ALB API emulator (see `ess-scale-in emulator --help`)')
    .description('Run the Alibaba Cloud API emulator on 127.0.0.1; every argument is handed to it.')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]', 'emulator arguments: --port, --host, --scenario, --access-key, --time-scale, --log, --help')
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in emulator --port 18080 --scenario demo
  $ ess-scale-in emulator --help`,
    )
    .action(async (args: string[], _flags: unknown, self: Command) => {
      const { runEmulatorCli } = loadEmulatorCli();
      if (!globalsOf(self).json) {
        done(await runEmulatorCli(args));
        return;
      }
      // The emulator talks to humans; with --json its lines go to stderr and stdout gets the URL
      // once it listens (recognised from its banner, the one line scripts need).
      let announced = false;
      const code = await runEmulatorCli(args, {
        err: io.err,
        out: (line) => {
          io.err(line);
          const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
          if (url && !announced) {
            announced = true;
            io.out(JSON.stringify({ ok: true, emulator: 'running', url }));
          }
        },
      });
      done(code);
    });
}
