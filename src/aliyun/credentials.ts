import {
  CLIProfileCredentialsProvider,
  ECSRAMRoleCredentialsProvider,
  EnvironmentVariableCredentialsProvider,
  OIDCRoleArnCredentialsProvider,
  ProfileCredentialsProvider,
  URICredentialsProvider,
} from '@alicloud/credentials';
import type { CredentialsProvider as LibraryProvider } from '@alicloud/credentials';
import { AliyunCredentialsError } from './errors';

export interface AliyunCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/** Asked once per call, so providers that refresh STS tokens are always current. */
export interface CredentialsProvider {
  getCredentials(): Promise<AliyunCredentials>;
}

const HOW_TO_FIX =
  'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET ' +
  '(plus ALIBABA_CLOUD_SECURITY_TOKEN for an STS token), ' +
  'or configure an aliyun CLI profile in ~/.aliyun/config.json, ' +
  'or run on ECS with a RAM role (ALIBABA_CLOUD_ECS_METADATA names it)';

/** Fixed credentials; the values live only in this closure, so the provider object itself serialises to nothing. */
export function staticCredentials(
  accessKeyId: string,
  accessKeySecret: string,
  securityToken?: string,
): CredentialsProvider {
  if (!accessKeyId || !accessKeySecret) {
    throw new AliyunCredentialsError(
      `Static Alibaba Cloud credentials need both an AccessKeyId and an AccessKeySecret; ${HOW_TO_FIX}`,
    );
  }
  const creds: AliyunCredentials = Object.freeze({
    accessKeyId,
    accessKeySecret,
    securityToken: securityToken || undefined,
  });
  return { getCredentials: () => Promise.resolve(creds) };
}

/**
 * The default chain of `@alicloud/credentials`, built from the library's own providers in the
 * library's order: environment variables, OIDC role, `~/.aliyun/config.json` CLI profile,
 * `~/.alibabacloud/credentials`, ECS RAM role through the metadata service (STS refreshed by the
 * library), credentials URI. Environment variables come first, so when they are set nothing else
 * is consulted; `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` switches the metadata service off.
 *
 * Composed here rather than taken as `new Credential()` for two library flaws: its chain asks
 * `https://undefined/` (a DNS lookup) when ALIBABA_CLOUD_CREDENTIALS_URI is unset, and after a
 * failure it keeps asking only the last provider it tried.
 */
export function defaultCredentialChain(): CredentialsProvider {
  let active: LibraryProvider | undefined;
  return {
    async getCredentials() {
      if (active) {
        try {
          return complete(await active.getCredentials());
        } catch {
          // Fall back to the whole chain: credentials may have moved (an expired profile, new env vars).
          active = undefined;
        }
      }
      // The builders read their env switches, so the chain is rebuilt until one provider works.
      const { providers, messages } = buildChain();
      for (const provider of providers) {
        try {
          const creds = complete(await provider.getCredentials());
          active = provider;
          return creds;
        } catch (e) {
          messages.push(e instanceof Error ? e.message : String(e));
        }
      }
      throw new AliyunCredentialsError(
        `No Alibaba Cloud credentials found${hints(messages.join('\n'))}: ${HOW_TO_FIX}`,
      );
    },
  };
}

function complete(c: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string }): AliyunCredentials {
  if (!c.accessKeyId || !c.accessKeySecret) throw new Error('incomplete AccessKey');
  return {
    accessKeyId: c.accessKeyId,
    accessKeySecret: c.accessKeySecret,
    securityToken: c.securityToken || undefined,
  };
}

function buildChain(): { providers: LibraryProvider[]; messages: string[] } {
  const builders: Array<() => LibraryProvider> = [
    () => EnvironmentVariableCredentialsProvider.builder().build(),
    () => OIDCRoleArnCredentialsProvider.builder().build(),
    () => CLIProfileCredentialsProvider.builder().build(),
    () => ProfileCredentialsProvider.builder().build(),
    () => ECSRAMRoleCredentialsProvider.builder().build(),
  ];
  if (process.env.ALIBABA_CLOUD_CREDENTIALS_URI) builders.push(() => URICredentialsProvider.builder().build());
  // A builder throws when its provider is unconfigured or switched off (OIDC without a role ARN, IMDS disabled).
  const providers: LibraryProvider[] = [];
  const messages: string[] = [];
  for (const build of builders) {
    try {
      providers.push(build());
    } catch (e) {
      messages.push(e instanceof Error ? e.message : String(e));
    }
  }
  return { providers, messages };
}

/**
 * The library's own messages can quote file contents or metadata responses (secrets included), so
 * only fixed, known-safe hints are derived from them.
 */
const HINTS: ReadonlyArray<[RegExp, (m: RegExpMatchArray) => string]> = [
  [/reading aliyun cli config from '([^']*)' failed/, (m) => `no readable CLI config at ${m[1] ?? '?'}`],
  [/parse aliyun cli config from '([^']*)' failed/, (m) => `CLI config ${m[1] ?? '?'} is not valid JSON`],
  [/unable to get profile with '([^']*)'/, (m) => `CLI profile ${JSON.stringify(m[1] ?? '')} not found`],
  [/IMDS credentials is disabled/, () => 'ECS metadata lookup is disabled'],
  [
    /100\.100\.100\.200|get role name failed|get sts token failed|metadata token/,
    () => 'the ECS metadata service gave no credentials',
  ],
];

function hints(text: string): string {
  const found = HINTS.flatMap(([re, fmt]) => {
    const m = text.match(re);
    return m ? [fmt(m)] : [];
  });
  return found.length ? ` (${found.join('; ')})` : '';
}
