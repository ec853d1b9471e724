import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, computeSignature, percentEncode, signRpcParams, stringToSign } from '../../../src/aliyun/signer';
import { ECS_PARAMS, ESS_PARAMS } from '../signature-vectors';

/** Reference encoder written from the spec: UTF-8 bytes, unreserved literal, the rest %XX uppercase. */
function referenceEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('published V1 vectors', () => {
  it('reproduces the ECS DescribeRegions example (GET) byte for byte', () => {
    expect(stringToSign('GET', ECS_PARAMS)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1' +
        '%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0' +
        '%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(computeSignature('GET', ECS_PARAMS, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    expect(percentEncode('OLeaidS1JvxuMvnyHOwuJ+uX5qY=')).toBe('OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D');
  });

  it('signs the same parameters as POST differently, because the verb is part of StringToSign', () => {
    expect(computeSignature('POST', ECS_PARAMS, 'testsecret')).toBe('MxbnVAM4w6sft9xjVpe/GCKueuk=');
  });

  it('reproduces the ESS DescribeScalingGroups example with the parameter spelled TimeStamp', () => {
    expect(computeSignature('GET', ESS_PARAMS, 'testsecret')).toBe('SmhZuLUnXmqxSEZ/GqyiwGqmf+M=');
  });

  it('signRpcParams with injected time and nonce yields the ECS vector and keeps the operation params', () => {
    const signed = signRpcParams(
      { Action: 'DescribeRegions', Version: '2014-05-26', Format: 'XML' },
      {
        method: 'GET',
        accessKeyId: 'testid',
        accessKeySecret: 'testsecret',
        now: new Date('2016-02-23T12:46:24.123Z'),
        nonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      },
    );
    expect(signed).toEqual({ ...ECS_PARAMS, Signature: 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=' });
  });

  it('adds SecurityToken only when given, and it is covered by the signature', () => {
    const base = { method: 'POST' as const, accessKeyId: 'id', accessKeySecret: 's', now: new Date(0), nonce: 'n' };
    const without = signRpcParams({ Action: 'A' }, base);
    const withToken = signRpcParams({ Action: 'A' }, { ...base, securityToken: 'tok' });
    expect(without).not.toHaveProperty('SecurityToken');
    expect(withToken.SecurityToken).toBe('tok');
    expect(withToken.Signature).not.toBe(without.Signature);
  });
});

describe('percent-encoding rules', () => {
  it('encodes the special cases the API calls out', () => {
    expect(percentEncode('a b')).toBe('a%20b');
    expect(percentEncode('*')).toBe('%2A');
    expect(percentEncode('~')).toBe('~');
    expect(percentEncode("!'()")).toBe('%21%27%28%29');
    expect(percentEncode('é')).toBe('%C3%A9');
    expect(percentEncode('中')).toBe('%E4%B8%AD');
    expect(percentEncode('😀')).toBe('%F0%9F%98%80');
    expect(percentEncode('/:=&+')).toBe('%2F%3A%3D%26%2B');
  });

  it('matches a byte-wise reference encoder for any string (UTF-8, uppercase hex)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => percentEncode(s) === referenceEncode(s)));
  });

  it('leaves unreserved characters literal', () => {
    const unreserved = fc.constantFrom(
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~'.split(''),
    );
    fc.assert(fc.property(fc.string({ unit: unreserved }), (s) => percentEncode(s) === s));
  });

  it('round-trips through decodeURIComponent and emits only unreserved characters and %XX', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = percentEncode(s);
        return decodeURIComponent(e) === s && /^(?:[A-Za-z0-9\-_.~]|%[0-9A-F]{2})*$/.test(e);
      }),
    );
  });
});

describe('canonicalization', () => {
  it('sorts by code units, so InstanceId.10 comes before InstanceId.2 and upper case before lower', () => {
    const c = canonicalize({
      'InstanceId.2': 'b',
      'InstanceId.10': 'c',
      'InstanceId.1': 'a',
      action: 'x',
      Action: 'y',
    });
    expect(c).toBe('Action=y&InstanceId.1=a&InstanceId.10=c&InstanceId.2=b&action=x');
  });

  it('excludes Signature itself', () => {
    expect(canonicalize({ A: '1', Signature: 'zzz' })).toBe('A=1');
  });

  it("orders keys by their UTF-16 code units for any parameter set (the reference's Java String order)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary', minLength: 1 }), fc.string()), (params) => {
        delete params.Signature;
        const keys = canonicalize(params)
          .split('&')
          .filter(Boolean)
          .map((pair) => decodeURIComponent(pair.slice(0, pair.indexOf('='))));
        const units = (k: string): number[] => Array.from({ length: k.length }, (_, i) => k.charCodeAt(i));
        const byUnits = (a: string, b: string): number => {
          const [x, y] = [units(a), units(b)];
          const i = x.findIndex((u, j) => u !== y[j]);
          return i === -1 ? x.length - y.length : i >= y.length ? 1 : (x[i] ?? 0) - (y[i] ?? 0);
        };
        const expected = Object.keys(params).sort(byUnits);
        return JSON.stringify(keys) === JSON.stringify(expected);
      }),
    );
  });

  it('gives the same signature whatever order the parameters were inserted in', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1 }), fc.string({ unit: 'binary' })),
        fc.integer({ min: 1 }),
        (params, seed) => {
          const reordered = Object.fromEntries(shuffle(Object.entries(params), seed));
          return computeSignature('POST', params, 'k') === computeSignature('POST', reordered, 'k');
        },
      ),
    );
  });
});
