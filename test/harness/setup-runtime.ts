import { DefaultLogger, Runtime } from '@temporalio/worker';

// Keep worker chatter out of test output; failures still surface through assertions.
try {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { forward: {}, filter: 'ERROR' } },
  });
} catch {
  // Already installed in this fork.
}
