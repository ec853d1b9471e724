import { describe, it, expect } from 'vitest';
import type { LogEntry } from '@temporalio/worker';
import { ConfigError } from '../../src/config';
import { createLogger, formatLine, loggingConfigFromEnv, Redactor, toRecord } from '../../src/observability/logger';

const SECRET = 'small-emulator-secret-not-real';
const TOKEN = 'CAIS8gF1q6Ft5B2yfSjIr5bSTOKENxyz';
const API_KEY = 'eyJhbGciOiJFUzI1NiJ9.tmprl-api-key.sig';
const redactor = Redactor.fromEnv({
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
  ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN,
  TEMPORAL_API_KEY: API_KEY,
});
const at = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5, 678)) * 1_000_000n;
const entry = (message: string, meta?: Record<string, unknown>, level: LogEntry['level'] = 'INFO'): LogEntry => ({
  level,
  message,
  timestampNanos: at,
  ...(meta ? { meta } : {}),
});

describe('loggingConfigFromEnv', () => {
  it('defaults to JSON when stdout is not a terminal and to pretty lines when it is; level INFO', () => {
    expect(loggingConfigFromEnv({}, false)).toEqual({ format: 'json', level: 'INFO' });
    expect(loggingConfigFromEnv({}, true)).toEqual({ format: 'pretty', level: 'INFO' });
    expect(loggingConfigFromEnv({ LOG_FORMAT: 'JSON', LOG_LEVEL: 'debug' }, true)).toEqual({
      format: 'json',
      level: 'DEBUG',
    });
    expect(loggingConfigFromEnv({ LOG_FORMAT: 'pretty' }, false).format).toBe('pretty');
  });

  it('refuses unknown values with a ConfigError naming the variable', () => {
    expect(() => loggingConfigFromEnv({ LOG_FORMAT: 'xml' }, false)).toThrow(ConfigError);
    expect(() => loggingConfigFromEnv({ LOG_FORMAT: 'xml' }, false)).toThrow(/^LOG_FORMAT: expected json or pretty/);
    expect(() => loggingConfigFromEnv({ LOG_LEVEL: 'verbose' }, false)).toThrow(
      /^LOG_LEVEL: expected one of TRACE, DEBUG, INFO, WARN, ERROR/,
    );
  });
});

describe('JSON log lines', () => {
  it('one object per line: time, level, msg, then the well-known fields under their short names, then the rest', () => {
    const line = formatLine(
      entry('RemoveInstances accepted', {
        sdkComponent: 'activity',
        attempt: 2,
        workflowId: 'ess-scale-in/cn-hangzhou/asg-1',
        workflowRunId: 'run-1',
        activityType: 'removeBatch',
        batch: 3,
        requestId: 'REQ-1',
        action: 'RemoveInstances',
        code: 'Throttling',
        taskToken: 'Q2lRd01XRXlNVGd4TUMx',
        instanceIds: ['i-1', 'i-2'],
      }),
      'json',
      redactor,
    );
    expect(line).not.toContain('\n');
    const rec = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(rec)).toEqual([
      'time',
      'level',
      'msg',
      'workflowId',
      'runId',
      'activity',
      'batch',
      'requestId',
      'action',
      'code',
      'sdkComponent',
      'attempt',
      'instanceIds',
    ]);
    expect(rec).toMatchObject({
      time: '2026-01-02T03:04:05.678Z',
      level: 'info',
      msg: 'RemoveInstances accepted',
      runId: 'run-1',
      activity: 'removeBatch',
      batch: 3,
      instanceIds: ['i-1', 'i-2'],
    });
    // A task token can complete the activity through the API: never logged.
    expect(line).not.toContain('taskToken');
  });

  it('renders errors, bigints, buffers and cycles without throwing', () => {
    const err = Object.assign(new Error('boom'), { code: 'ServiceUnavailable' });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const rec = toRecord(
      entry('failed', { error: err, n: 12n, body: Buffer.from('xyz'), cyclic, fn: () => 1 }, 'WARN'),
      redactor,
    );
    expect(rec.level).toBe('warn');
    expect(rec.error).toMatchObject({ name: 'Error', message: 'boom', code: 'ServiceUnavailable' });
    expect(String((rec.error as { stack: string }).stack)).toMatch(/^Error: boom/);
    expect(rec).toMatchObject({ n: '12', body: '[3 bytes]', cyclic: { a: 1, self: '[Circular]' } });
    expect('fn' in rec && rec.fn !== undefined).toBe(false);
    expect(() => JSON.stringify(rec)).not.toThrow();
  });

  it('pretty lines are one readable line with key=value pairs', () => {
    const line = formatLine(
      entry('drained batch 1', {
        workflowId: 'wf-1',
        activityType: 'drain',
        batchIndex: 1,
        sdkComponent: 'activity',
        note: 'two words',
      }),
      'pretty',
      redactor,
    );
    expect(line).toBe(
      '2026-01-02T03:04:05.678Z INFO  drained batch 1  workflowId=wf-1 activity=drain batch=1 note="two words"',
    );
  });
});

describe('redaction', () => {
  it('drops the values of secret-looking keys at any depth', () => {
    const rec = toRecord(
      entry('creds', {
        accessKeySecret: 'x'.repeat(12),
        AccessKeyId: 'LTAIvisible',
        SecurityToken: 'abc',
        apiKey: 'k',
        Authorization: 'Bearer zzz',
        password: 'p',
        nested: { credentials: { id: 'a' }, deeper: [{ client_secret: 's', clientToken: 'esi-idempotency-token-ok' }] },
        privateKey: 'pem',
        signature: 'sig',
      }),
      redactor,
    );
    expect(rec).toMatchObject({
      accessKeySecret: '[REDACTED]',
      AccessKeyId: 'LTAIvisible',
      SecurityToken: '[REDACTED]',
      apiKey: '[REDACTED]',
      Authorization: '[REDACTED]',
      password: '[REDACTED]',
      nested: {
        credentials: '[REDACTED]',
        deeper: [{ client_secret: '[REDACTED]', clientToken: 'esi-idempotency-token-ok' }],
      },
      privateKey: '[REDACTED]',
      signature: '[REDACTED]',
    });
  });

  it('removes known secret values from any text, raw, percent-encoded or base64', () => {
    const encoded = encodeURIComponent(TOKEN + '/+=');
    const r = new Redactor([SECRET, TOKEN + '/+=', API_KEY]);
    const text = `msg ${SECRET} q=${encoded} b64=${Buffer.from(API_KEY).toString('base64')} ${API_KEY}`;
    const out = r.text(text);
    for (const s of [SECRET, encoded, API_KEY, Buffer.from(API_KEY).toString('base64')]) expect(out).not.toContain(s);
    expect(out).toMatch(/^msg \[REDACTED\] q=\[REDACTED\] b64=\[REDACTED\] \[REDACTED\]$/);
    const rec = toRecord(
      entry(`call failed for ${SECRET}`, { detail: `token ${TOKEN}`, list: [`x${API_KEY}x`] }),
      redactor,
    );
    expect(JSON.stringify(rec)).not.toMatch(new RegExp(`${SECRET}|${TOKEN}|${API_KEY.replace(/\./g, '\\.')}`));
  });

  it('redacts secret-looking fragments of free text even when the value is unknown', () => {
    const out = redactor.text(
      'GET /?AccessKeyId=LTAI1&Signature=Zm9vYmFy%3D&SecurityToken=abc123&Action=X ' +
        '{"AccessKeySecret":"s3cr3t"} Authorization: Bearer abcdefgh12345678 ' +
        '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- api_key=zzz password: hunter2',
    );
    expect(out).toContain('AccessKeyId=LTAI1');
    expect(out).toContain('Action=X');
    for (const s of ['Zm9vYmFy', 'abc123', 's3cr3t', 'abcdefgh12345678', 'MIIEow', 'zzz', 'hunter2'])
      expect(out).not.toContain(s);
    expect(out).toContain('[REDACTED PRIVATE KEY]');
  });

  it('ignores very short "secrets" instead of blanking out ordinary text', () => {
    expect(new Redactor(['abc', '', undefined]).text('abc abc')).toBe('abc abc');
  });
});

describe('createLogger', () => {
  it('filters by level and writes redacted lines through the given writer', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', level: 'INFO', write: (l) => lines.push(l), redactor });
    logger.debug('hidden');
    logger.info(`visible ${SECRET}`, { workflowId: 'wf-1', accessKeySecret: SECRET });
    logger.error('bad', { code: 'Forbidden.RAM' });
    expect(lines).toHaveLength(2);
    const [info, error] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(info).toMatchObject({
      level: 'info',
      msg: 'visible [REDACTED]',
      workflowId: 'wf-1',
      accessKeySecret: '[REDACTED]',
    });
    expect(error).toMatchObject({ level: 'error', msg: 'bad', code: 'Forbidden.RAM' });
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('survives a writer that throws', () => {
    const logger = createLogger({
      format: 'pretty',
      level: 'TRACE',
      write: () => {
        throw new Error('EPIPE');
      },
      redactor,
    });
    expect(() => logger.info('x')).not.toThrow();
  });
});
