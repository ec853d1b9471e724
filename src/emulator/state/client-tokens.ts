/**
 * ClientToken idempotency: what an accepted call answered, per action and token (the emulator has
 * one account, so tokens are not scoped further).
 */
export interface TokenRecord {
  /** The call's own parameters, to tell a replay from a different call reusing the token. */
  fingerprint: string;
  result: Record<string, string>;
}

export class ClientTokens {
  private readonly records = new Map<string, TokenRecord>();

  recall(action: string, token: string): Readonly<TokenRecord> | undefined {
    return this.records.get(`${action}|${token}`);
  }

  remember(action: string, token: string, record: TokenRecord): void {
    this.records.set(`${action}|${token}`, record);
  }

  clear(): void {
    this.records.clear();
  }
}
