import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { canonicalize, computeSignature, signRpcParams, stringToSign } from '../../src/aliyun/signer';
import { ApiError } from '../../src/emulator/api-error';
import { NonceStore, verifySignature } from '../../src/emulator/auth';
import {
  canonicalizedQueryString,
  compareUtf16,
  expectedV1Signature,
  hmacSha1,
  rfc3986Encode,
  v1StringToSign,
} from '../../src/emulator/signature';
import { ECS_PARAMS, ESS_PARAMS } from './signature-vectors';

/** U+FF21 (BMP, above the surrogates) and U+1F600 (astral): UTF-8 and UTF-16 order them differently. */
const BMP_HIGH = 'a\uFF21';
const ASTRAL = 'a\u{1F600}';

/** The canonicalisation of @alicloud/pop-core `lib/rpc.js` (`encode`, `normalize`), copied in spirit as an oracle. */
function popCoreSignature(method: string, params: Record<string, string>, secret: string): string {
  const encode = (s: string): string =>
    encodeURIComponent(s)
      .replace(/!/g, '%21')
      .replace(/'/g, '%27')
      .replace(/\(/g, '%28')
      .replace(/\)/g, '%29')
      .replace(/\*/g, '%2A');
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${encode(k)}=${encode(params[k] ?? '')}`)
    .join('&');
  return createHmac('sha1', `${secret}&`)
    .update(`${method}&${encode('/')}&${encode(canonical)}`)
    .digest('base64');
}

function namesOf(canonical: string): string[] {
  return canonical.split('&').map((pair) => decodeURIComponent(pair.slice(0, pair.indexOf('='))));
}

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
  return 'accepted';
}

describe('verifier against the published V1 vectors', () => {
  it('reproduces the ECS DescribeRegions StringToSign and signature byte for byte', () => {
    expect(v1StringToSign('GET', ECS_PARAMS)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1' +
        '%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0' +
        '%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(expectedV1Signature('GET', ECS_PARAMS, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    expect(rfc3986Encode('OLeaidS1JvxuMvnyHOwuJ+uX5qY=')).toBe('OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D');
  });

  it('reproduces the ESS example and the older `TimeStamp` spelling of the ECS one', () => {
    expect(expectedV1Signature('GET', ESS_PARAMS, 'testsecret')).toBe('SmhZuLUnXmqxSEZ/GqyiwGqmf+M=');
    const { Timestamp, ...rest } = ECS_PARAMS;
    expect(expectedV1Signature('GET', { ...rest, TimeStamp: Timestamp }, 'testsecret')).toBe(
      'CT9X0VtwR86fNWSnsc6v8YGOjuE=',
    );
  });

  it('signs POST differently from GET (the verb is in StringToSign)', () => {
    expect(expectedV1Signature('POST', ECS_PARAMS, 'testsecret')).toBe('MxbnVAM4w6sft9xjVpe/GCKueuk=');
  });

  it('verifySignature accepts the published request and rejects it with the verb or a value changed', () => {
    const now = Date.parse(ECS_PARAMS.Timestamp);
    const request = { ...ECS_PARAMS, Signature: 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=' };
    const secretOf = (id: string): string | undefined => (id === 'testid' ? 'testsecret' : undefined);
    expect(verifySignature('GET', request, secretOf, new NonceStore(), now)).toEqual({
      accessKeyId: 'testid',
      nonce: ECS_PARAMS.SignatureNonce,
    });
    expect(rejection(() => verifySignature('POST', request, secretOf, new NonceStore(), now))).toBe(
      'SignatureDoesNotMatch',
    );
    const tampered = { ...request, Version: '2014-05-27' };
    expect(rejection(() => verifySignature('GET', tampered, secretOf, new NonceStore(), now))).toBe(
      'SignatureDoesNotMatch',
    );
  });
});

describe('verifier building blocks, from their own specifications', () => {
  it('HMAC-SHA1 matches the RFC 2202 test cases, including keys longer than a block', () => {
    const hex = (key: Buffer, data: string): string => hmacSha1(key, Buffer.from(data)).toString('hex');
    expect(hex(Buffer.alloc(20, 0x0b), 'Hi There')).toBe('b617318655057264e28bc0b6fb378c8ef146be00');
    expect(hex(Buffer.from('Jefe'), 'what do ya want for nothing?')).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
    expect(hex(Buffer.alloc(80, 0xaa), 'Test Using Larger Than Block-Size Key - Hash Key First')).toBe(
      'aa4ae5e15272d00e95705637ce8a3b55ed402112',
    );
    expect(
      hex(Buffer.alloc(80, 0xaa), 'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'),
    ).toBe('e8e99d0f45237d786d6bbaa7965c7808bbff1a91');
  });

  it('percent-encodes as the reference says: %20, %2A, literal ~, %22, multi-byte UTF-8', () => {
    expect(rfc3986Encode('a b*~"')).toBe('a%20b%2A~%22');
    expect(rfc3986Encode("!'()/:=&+%")).toBe('%21%27%28%29%2F%3A%3D%26%2B%25');
    expect(rfc3986Encode('é中😀')).toBe('%C3%A9%E4%B8%AD%F0%9F%98%80');
    expect(rfc3986Encode('AZaz09-_.~')).toBe('AZaz09-_.~');
  });

  it('sorts names case-sensitively, `InstanceId.10` before `InstanceId.2`, and leaves Signature out', () => {
    const c = canonicalizedQueryString({
      'InstanceId.2': 'b',
      'InstanceId.10': 'c',
      action: 'x',
      Action: 'y',
      Signature: 's',
    });
    expect(c).toBe('Action=y&InstanceId.10=c&InstanceId.2=b&action=x');
  });
});

describe('sort order of non-ASCII names: UTF-16 code units (decision)', () => {
  it('the test pair really separates the two candidate orders', () => {
    expect(Buffer.compare(Buffer.from(BMP_HIGH), Buffer.from(ASTRAL))).toBeLessThan(0);
    expect(compareUtf16(BMP_HIGH, ASTRAL)).toBeGreaterThan(0);
  });

  it('client and verifier both put the astral name first, as Java String order and pop-core do', () => {
    const params = { [BMP_HIGH]: '1', [ASTRAL]: '2', Action: 'A' };
    expect(namesOf(canonicalizedQueryString(params))).toEqual(['Action', ASTRAL, BMP_HIGH]);
    expect(namesOf(canonicalize(params))).toEqual(['Action', ASTRAL, BMP_HIGH]);
    const official = popCoreSignature('POST', params, 'k');
    expect(expectedV1Signature('POST', params, 'k')).toBe(official);
    expect(computeSignature('POST', params, 'k')).toBe(official);
  });

  it('the verifier refuses a request canonicalised in UTF-8 byte order', () => {
    const signed = signRpcParams(
      { Action: 'A', [BMP_HIGH]: '1', [ASTRAL]: '2' },
      { method: 'POST', accessKeyId: 'id', accessKeySecret: 's', now: new Date(0), nonce: 'n' },
    );
    const byBytes = Object.keys(signed)
      .filter((k) => k !== 'Signature')
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((k) => `${rfc3986Encode(k)}=${rfc3986Encode(signed[k] ?? '')}`)
      .join('&');
    const utf8Signature = hmacSha1(Buffer.from('s&'), Buffer.from(`POST&%2F&${rfc3986Encode(byBytes)}`)).toString(
      'base64',
    );
    const verify = (signature: string): string =>
      rejection(() => verifySignature('POST', { ...signed, Signature: signature }, () => 's', new NonceStore(), 0));
    expect(verify(signed.Signature ?? '')).toBe('accepted');
    expect(verify(utf8Signature)).toBe('SignatureDoesNotMatch');
  });

  it('compareUtf16 agrees with Java/JavaScript String order on random unicode names', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const js = a < b ? -1 : a > b ? 1 : 0;
        return Math.sign(compareUtf16(a, b)) === js;
      }),
    );
  });
});

const RESERVED = [...' !"#$%&\'()*+,/:;<=>?@[\\]^`{|}~'];
const nameArb = fc.oneof(
  fc.constantFrom(
    'Action',
    'action',
    'ACTION',
    'InstanceId.1',
    'InstanceId.10',
    'InstanceId.2',
    'RegionId',
    'regionid',
  ),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,12}$/).chain((n) => fc.constantFrom(n, n.toLowerCase(), n.toUpperCase())),
  fc.string({ unit: fc.constantFrom(...RESERVED, 'a', 'Z'), minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }),
  fc.constantFrom(BMP_HIGH, ASTRAL, '\uE000', '\u{10000}', 'é', 'É'),
);
const valueArb = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...RESERVED, '%', 'a', '😀', '中'), maxLength: 12 }),
);
const paramsArb = fc
  .uniqueArray(fc.tuple(nameArb, valueArb), { selector: ([name]) => name, maxLength: 12 })
  .map((entries) => Object.fromEntries(entries.filter(([name]) => name !== 'Signature')));

describe('verifier against the client signer on random parameter sets', () => {
  it('1000 sets: same canonical string, StringToSign and signature; the verifier accepts the client', () => {
    fc.assert(
      fc.property(paramsArb, fc.constantFrom('GET', 'POST'), fc.string({ maxLength: 8 }), (params, method, secret) => {
        expect(canonicalizedQueryString(params)).toBe(canonicalize(params));
        expect(v1StringToSign(method, params)).toBe(stringToSign(method, params));
        expect(expectedV1Signature(method, params, secret)).toBe(computeSignature(method, params, secret));
        expect(expectedV1Signature(method, params, secret)).toBe(popCoreSignature(method, params, secret));
        const signed = signRpcParams(params, {
          method,
          accessKeyId: 'id',
          accessKeySecret: secret,
          now: new Date(0),
          nonce: 'n',
        });
        const verify = (): unknown => verifySignature(method, signed, () => secret, new NonceStore(), 0);
        expect(rejection(verify)).toBe('accepted');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('independence', () => {
  it('the emulator verifier imports nothing from the client (src/aliyun)', () => {
    for (const file of ['signature.ts', 'auth.ts']) {
      const source = readFileSync(join(__dirname, '../../src/emulator', file), 'utf8');
      expect(source).not.toMatch(/from '\.\.\/aliyun/);
    }
  });
});
