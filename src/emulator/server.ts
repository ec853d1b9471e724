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
import { NLB_ACTIONS } from './nlb';
import { ApiError, apiError, missingParameter } from './api-error';
import { NonceStore, verifySignature } from './auth';
import { CLB_ACTIONS } from './clb';
import type { ActionContext, ActionHandler } from './context';
import { ESS_ACTIONS } from './ess';
import { LIFECYCLE_HOOK_ACTIONS } from './ess-lifecycle';
import { faultError } from './faults';
import { newRequestId } from './ids';
import { Params } from './params';
import type { EmulatorState } from './state';
import type { CallLogEntry, FaultKind } from './types';

interface ProductRoute {
  product: 'ess' | 'slb' | 'alb' | 'nlb';
  version: string;
  recommend: string;
  actions: Readonly<Record<string, ActionHandler>>;
}

const PRODUCTS: readonly ProductRoute[] = [
  { product: 'ess', version: '2014-08-28', recommend: 'Ess', actions: { ...ESS_ACTIONS, ...LIFECYCLE_HOOK_ACTIONS } },
  { product: 'slb', version: '2014-05-15', recommend: 'Slb', actions: CLB_ACTIONS },
  { product: 'alb', version: '2020-06-16', recommend: 'Alb', actions: ALB_ACTIONS },
  { product: 'nlb', version: '2022-04-30', recommend: 'Nlb', actions: NLB_ACTIONS },
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
  if (route?.product === 'alb' || route?.product === 'nlb')
    return `${route.product}.${state.firstRegion() ?? 'cn-hangzhou'}.aliyuncs.com`;
  return 'ess.aliyuncs.com';
}

/** The real error envelope. */
function errorBody(err: ApiError, requestId: string, route: ProductRoute | undefined, state: EmulatorState): object {
  const product = route?.recommend ?? 'Ess';
  return {
    RequestId: requestId,
    HostId: hostIdOf(route, state),
    Code: err.code,
    Message: err.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=${product}`,
  };
}

/** Query parameters, then form-body parameters (which win), as the gateway merges them. */
function requestParams(url: URL, body: string, contentType: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  if (body !== '' && (contentType === '' || contentType.includes('application/x-www-form-urlencoded'))) {
    for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  }
  return params;
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

/** One API call in flight: what the call log and the answer need. */
interface ApiCall {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  params: Record<string, string>;
  action: string;
  version: string;
  route: ProductRoute | undefined;
  requestId: string;
  started: number;
  entry: CallLogEntry;
}

/** What running the handler produced: a success body or the API error's envelope. */
interface Answer {
  status: number;
  outcome: string;
  body: object;
  headers: Record<string, string>;
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
    this.send(res, err.httpStatus, errorBody(err, requestId, route, this.opts.state), requestId, err.headers);
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
    const requestId = newRequestId();
    let body: string;
    try {
      body = await readBody(req);
    } catch (e) {
      if (e instanceof ApiError) this.sendError(res, e, requestId, undefined);
      return;
    }
    if (url.pathname === ADMIN_PREFIX || url.pathname.startsWith(`${ADMIN_PREFIX}/`)) {
      handleAdmin({ state: this.opts.state, ...this.opts.admin }, method, url, body, res);
      return;
    }
    const call = this.newCall(req, res, method, url, body, requestId);
    try {
      await this.dispatch(call);
    } catch (e) {
      if (e instanceof ApiError) this.fail(call, e);
      else {
        this.opts.log?.(`emulator: internal error in ${call.action}: ${(e as Error).stack ?? String(e)}`);
        this.fail(call, apiError('InternalError'));
      }
    }
  }

  private newCall(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    body: string,
    requestId: string,
  ): ApiCall {
    const started = Date.now();
    const seq = this.opts.state.nextCallSeq();
    const params = requestParams(url, body, String(req.headers['content-type'] ?? ''));
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
    return { req, res, method, url, params, action, version, route, requestId, started, entry };
  }

  /** Routes, verifies, applies faults and runs the action; throws ApiError for the answer. */
  private async dispatch(call: ApiCall): Promise<void> {
    const handler = this.handlerFor(call);
    const verified = verifySignature(
      call.method,
      call.params,
      (id) => this.opts.state.secretOf(id),
      this.nonces,
      Date.now(),
    );
    if (!this.opts.state.quota.admit(call.route?.product ?? 'unknown', call.action)) {
      // The account's quota (scenario `apiQuota`): refused before faults and effects; the nonce is spent.
      this.nonces.add(verified.accessKeyId, verified.nonce, Date.now());
      throw apiError('Throttling.User');
    }
    const decision = this.opts.state.faults.decide(call.action, call.params);
    if (decision.latencyMs > 0 && !decision.latencyAfterEffect) await sleep(decision.latencyMs);
    const rule = decision.rule;
    if (rule?.kind === 'reset') {
      // Before any effect: the nonce is not even burnt.
      call.req.socket.destroy();
      this.finish(call, 0, 'reset', false, 'reset');
      return;
    }
    this.nonces.add(verified.accessKeyId, verified.nonce, Date.now());
    const injected = rule ? faultError(rule) : undefined;
    if (injected) {
      if (decision.latencyMs > 0 && decision.latencyAfterEffect) await sleep(decision.latencyMs);
      this.fail(call, injected, decision.kind);
      return;
    }
    const answer = this.run(call, handler, verified.accessKeyId);
    if (rule?.kind === 'commitThenDrop') {
      // The call took effect; the client never hears about it.
      call.req.socket.destroy();
      this.finish(call, answer.status, answer.outcome, false, 'commitThenDrop');
      return;
    }
    if (decision.latencyMs > 0 && decision.latencyAfterEffect) await sleep(decision.latencyMs);
    this.send(call.res, answer.status, answer.body, call.requestId, answer.headers);
    this.finish(call, answer.status, answer.outcome, true, decision.kind);
  }

  private handlerFor(call: ApiCall): ActionHandler {
    if (call.method !== 'GET' && call.method !== 'POST') throw apiError('UnsupportedHTTPMethod');
    if (call.url.pathname !== '/') throw apiError('InvalidAction.NotFound');
    if (!call.action) throw missingParameter('Action');
    if (!call.version) throw missingParameter('Version');
    const actions = call.route?.actions;
    // Own properties only: Action=constructor or toString must not reach Object.prototype.
    const handler = actions && Object.hasOwn(actions, call.action) ? actions[call.action] : undefined;
    if (!handler) throw apiError('InvalidAction.NotFound');
    return handler;
  }

  /** Runs the handler on fresh state; an ApiError becomes the answer, anything else propagates. */
  private run(call: ApiCall, handler: ActionHandler, accessKeyId: string): Answer {
    const { state } = this.opts;
    state.advance();
    const ctx: ActionContext = {
      state,
      params: new Params(call.params),
      action: call.action,
      accessKeyId,
      now: Date.now(),
      meta: {},
    };
    let answer: Answer;
    try {
      answer = { status: 200, outcome: 'ok', body: { RequestId: call.requestId, ...handler(ctx) }, headers: {} };
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const body = errorBody(e, call.requestId, call.route, state);
      answer = { status: e.httpStatus, outcome: e.code, body, headers: e.headers };
    }
    if (ctx.meta.createdActivityId) call.entry.createdActivityId = ctx.meta.createdActivityId;
    if (ctx.meta.createdJobId) call.entry.createdJobId = ctx.meta.createdJobId;
    return answer;
  }

  private fail(call: ApiCall, err: ApiError, fault?: FaultKind): void {
    this.sendError(call.res, err, call.requestId, call.route);
    this.finish(call, err.httpStatus, err.code, true, fault);
  }

  /** Completes the call-log entry and logs one line. */
  private finish(call: ApiCall, status: number, outcome: string, delivered: boolean, fault?: FaultKind): void {
    const { entry } = call;
    entry.httpStatus = status;
    entry.outcome = outcome;
    entry.delivered = delivered;
    if (fault) entry.fault = fault;
    entry.durationMs = Date.now() - call.started;
    this.opts.state.logCall(entry);
    const answered = delivered ? status : 'dropped';
    const faultNote = fault ? ` [fault ${fault}]` : '';
    const what = `${call.method} ${call.action || '-'} ${call.version || '-'}`;
    this.opts.log?.(`${what} -> ${answered} ${outcome} ${call.requestId}${faultNote}`);
  }
}
