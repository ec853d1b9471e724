import { describe, expect, it } from 'vitest';
import {
  defaultEndpoint,
  EndpointConfigError,
  endpointsFromEnv,
  resolveEndpoint,
  validateEndpoint,
} from '../../../src/aliyun/endpoints';

const CENTRAL = [
  'cn-qingdao',
  'cn-beijing',
  'cn-hangzhou',
  'cn-shanghai',
  'cn-shenzhen',
  'cn-hongkong',
  'ap-southeast-1',
  'us-east-1',
];

describe('default endpoints', () => {
  it('uses the central ESS and CLB hosts for the central regions', () => {
    for (const region of CENTRAL) {
      expect(defaultEndpoint('ess', region)).toBe('https://ess.aliyuncs.com');
      expect(defaultEndpoint('slb', region)).toBe('https://slb.aliyuncs.com');
    }
  });

  it('uses regional ESS and CLB hosts elsewhere, and always a regional ALB host', () => {
    expect(defaultEndpoint('ess', 'eu-central-1')).toBe('https://ess.eu-central-1.aliyuncs.com');
    expect(defaultEndpoint('slb', 'cn-zhangjiakou')).toBe('https://slb.cn-zhangjiakou.aliyuncs.com');
    expect(defaultEndpoint('alb', 'cn-hangzhou')).toBe('https://alb.cn-hangzhou.aliyuncs.com');
  });

  it('refuses region IDs that would change the hostname', () => {
    expect(() => defaultEndpoint('ess', 'evil.com/x')).toThrow(RangeError);
    expect(() => defaultEndpoint('alb', '')).toThrow(RangeError);
  });
});

describe('endpoint overrides', () => {
  it('reads ESS_ENDPOINT, SLB_ENDPOINT and ALB_ENDPOINT and ignores empty ones', () => {
    expect(
      endpointsFromEnv({
        ESS_ENDPOINT: 'http://127.0.0.1:18080',
        SLB_ENDPOINT: '',
        ALB_ENDPOINT: 'https://alb.example.test/',
      }),
    ).toEqual({
      ess: 'http://127.0.0.1:18080',
      alb: 'https://alb.example.test',
    });
    expect(endpointsFromEnv({})).toEqual({});
  });

  it('names the variable when an override is malformed', () => {
    const attempt = (v: string): unknown => {
      try {
        endpointsFromEnv({ SLB_ENDPOINT: v });
      } catch (e) {
        return e;
      }
      return undefined;
    };
    for (const bad of [
      'not a url',
      'ftp://127.0.0.1',
      'http://127.0.0.1:1/path',
      'http://u:p@127.0.0.1',
      'http://127.0.0.1/?q=1',
    ]) {
      const e = attempt(bad);
      expect(e).toBeInstanceOf(EndpointConfigError);
      expect((e as EndpointConfigError).name).toBe('EndpointConfigError');
      expect((e as EndpointConfigError).variable).toBe('SLB_ENDPOINT');
      expect((e as Error).message).toMatch(/^SLB_ENDPOINT: /);
    }
  });

  it('does not echo user info from a rejected URL', () => {
    expect(() => validateEndpoint('http://user:hunter2@127.0.0.1', 'ESS_ENDPOINT')).toThrow(/user info/);
    try {
      validateEndpoint('http://user:hunter2@127.0.0.1', 'ESS_ENDPOINT');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('lets an override win over the regional default', () => {
    expect(resolveEndpoint('ess', 'eu-central-1', { ess: 'http://127.0.0.1:9' })).toBe('http://127.0.0.1:9');
    expect(resolveEndpoint('slb', 'eu-central-1', { ess: 'http://127.0.0.1:9' })).toBe(
      'https://slb.eu-central-1.aliyuncs.com',
    );
  });
});
