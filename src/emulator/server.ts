/**
 * The HTTP front: one port for ESS, CLB and ALB. Routes by Action + Version, verifies signature V1,
 * applies fault rules, runs the action, logs the call, and answers with the real envelope.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ADMIN_PREFIX, handleAdmin } from './admin';
import type { AdminDeps } from './admin';
import { ALB_ACTIONS } from './alb';
import { ApiError, apiError, missingParameter } from './api-error';
import { NonceStore, verifySignature } from './auth';
import { CLB_ACTIONS } from './clb';
import type { ActionContext, ActionHandler } from './context';
import { ESS_ACTIONS } from './ess';
import { faultError } from './faults';
import { newRequestId } from './ids';
import { Params } from './params';
import type { EmulatorState } from './state';
import type { CallLogEntry, FaultKind } from './types';

interface ProductRoute {
  product: 'ess' | 'slb' | 'alb';
  version: string;
  recommend: string;
  actions: Readonly<Record<string, ActionHandler>>;
}

const PRODUCTS: readonly ProductRoute[] = [
  { product: 'ess', version: '2014-08-28', recommend: 'Ess', actions: ESS_ACTIONS },
  { product: 'slb', version: '2014-05-15', recommend: 'Slb', actions: CLB_ACTIONS },
  { product: 'alb', version: '2020-06-16', recommend: 'Alb', actions: ALB_ACTIONS },
];

const MAX_BODY = 1024 * 1024;
const REDACTED = '***';

/** Parameters whose values never reach the call log. */
function redact(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    out[k] = k === 'Signature' || k === 'AccessKeyId' || k === 'SecurityToken' || /secret/i.test(k) ? REDACTED : v;
  }
  return out;
}

function hostIdOf(route: ProductRoute | undefined, state: EmulatorState): string {
  if (route?.product === 'slb') return 'slb.aliyuncs.com';
  if (route?.product === 'alb') return `alb.${[...state.regions][0] ?? 'cn-hangzhou'}.aliyuncs.com`;
  return 'ess.aliyuncs.com';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError('InvalidParameter', 413, 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
  });
}

export interface EmulatorServerOptions {
  host: string;
  port: number;
  state: EmulatorState;
  admin: Omit<AdminDeps, 'state'>;
  log?: ((line: string) => void) | undefined;
}

export class EmulatorServer {
  private server: Server | undefined;
  private readonly nonces = new NonceStore();

  constructor(private readonly opts: EmulatorServerOptions) {}

  async listen(): Promise<number> {
    const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // Last resort: never leave a request hanging.
        if (!res.headersSent && !res.destroyed)
          this.sendError(res, apiError('InternalError'), newRequestId(), undefined);
        this.opts.log?.(`emulator: unexpected error: ${(e as Error).message}`);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private sendError(res: ServerResponse, err: ApiError, requestId: string, route: ProductRoute | undefined): void {
    const code = err.code;
    this.send(
      res,
      err.httpStatus,
      {
        RequestId: requestId,
        HostId: hostIdOf(route, this.opts.state),
        Code: code,
        Message: err.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=${route?.recommend ?? 'Ess'}`,
      },
      requestId,
      err.headers,
    );
  }

  private send(
    res: ServerResponse,
    status: number,
    body: object,
    requestId: string,
    headers: Record<string, string> = {},
  ): void {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json;charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-acs-request-id': requestId,
      ...headers,
    });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    const method = (req.method ?? 'GET').toUpperCase();
    const { state } = this.opts;

    let body: string;
    const requestId = newRequestId();
    try {
      body = await readBody(req);
    } catch (e) {
      if (e instanceof ApiError) this.sendError(res, e, requestId, undefined);
      return;
    }

    if (url.pathname === ADMIN_PREFIX || url.pathname.startsWith(`${ADMIN_PREFIX}/`)) {
      handleAdmin({ state, ...this.opts.admin }, method, url, body, res);
      return;
    }

    const started = Date.now();
    const seq = state.nextCallSeq();
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    const ctype = String(req.headers['content-type'] ?? '');
    if (body !== '' && (ctype === '' || ctype.includes('application/x-www-form-urlencoded'))) {
      for (const [k, v] of new URLSearchParams(body)) params[k] = v;
    }
    const action = params.Action ?? '';
    const version = params.Version ?? '';
    const route = PRODUCTS.find((p) => p.version === version);

    const entry: CallLogEntry = {
      seq,
      time: new Date(started).toISOString(),
      method,
      action,
      version,
      product: route?.product ?? 'unknown',
      params: redact(params),
      httpStatus: 0,
      outcome: 'ok',
      requestId,
      delivered: true,
      durationMs: 0,
    };
    const finish = (status: number, outcome: string, delivered: boolean, fault?: FaultKind): void => {
      entry.httpStatus = status;
      entry.outcome = outcome;
      entry.delivered = delivered;
      if (fault) entry.fault = fault;
      entry.durationMs = Date.now() - started;
      state.logCall(entry);
      this.opts.log?.(
        `${method} ${action || '-'} ${version || '-'} -> ${delivered ? status : 'dropped'} ${outcome} ${requestId}${fault ? ` [fault ${fault}]` : ''}`,
      );
    };
    const fail = (err: ApiError, fault?: FaultKind): void => {
      this.sendError(res, err, requestId, route);
      finish(err.httpStatus, err.code, true, fault);
    };

    let handler: ActionHandler | undefined;
    try {
      if (method !== 'GET' && method !== 'POST') throw apiError('UnsupportedHTTPMethod');
      if (url.pathname !== '/') throw apiError('InvalidAction.NotFound');
      if (!action) throw missingParameter('Action');
      if (!version) throw missingParameter('Version');
      handler = route?.actions[action];
      if (!handler) throw apiError('InvalidAction.NotFound');
      const verified = verifySignature(method, params, (id) => state.secretOf(id), this.nonces, Date.now());

      const decision = state.faults.decide(action);
      if (decision.latencyMs > 0 && !decision.latencyAfterEffect) await sleep(decision.latencyMs);
      const rule = decision.rule;
      if (rule?.kind === 'reset') {
        // Before any effect: the nonce is not even burnt.
        req.socket.destroy();
        finish(0, 'reset', false, 'reset');
        return;
      }
      this.nonces.add(verified.accessKeyId, verified.nonce, Date.now());
      const injected = rule ? faultError(rule) : undefined;
      if (injected) {
        if (decision.latencyMs > 0 && decision.latencyAfterEffect) await sleep(decision.latencyMs);
        fail(injected, decision.kind);
        return;
      }

      state.advance();
      const ctx: ActionContext = {
        state,
        params: new Params(params),
        action,
        accessKeyId: verified.accessKeyId,
        now: Date.now(),
        meta: {},
      };
      let status = 200;
      let outcome = 'ok';
      let responseBody: object;
      let headers: Record<string, string> = {};
      try {
        responseBody = { RequestId: requestId, ...handler(ctx) };
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        status = e.httpStatus;
        outcome = e.code;
        headers = e.headers;
        responseBody = {
          RequestId: requestId,
          HostId: hostIdOf(route, state),
          Code: e.code,
          Message: e.message,
          Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}&product=${route?.recommend ?? 'Ess'}`,
        };
      }
      if (ctx.meta.createdActivityId) entry.createdActivityId = ctx.meta.createdActivityId;
      if (ctx.meta.createdJobId) entry.createdJobId = ctx.meta.createdJobId;
      if (rule?.kind === 'commitThenDrop') {
        // The call took effect; the client never hears about it.
        req.socket.destroy();
        finish(status, outcome, false, 'commitThenDrop');
        return;
      }
      if (decision.latencyMs > 0 && decision.latencyAfterEffect) await sleep(decision.latencyMs);
      this.send(res, status, responseBody, requestId, headers);
      finish(status, outcome, true, decision.kind);
    } catch (e) {
      if (e instanceof ApiError) fail(e);
      else {
        this.opts.log?.(`emulator: internal error in ${action}: ${(e as Error).stack ?? String(e)}`);
        fail(apiError('InternalError'));
      }
    }
  }
}
