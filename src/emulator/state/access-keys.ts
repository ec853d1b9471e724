/** AccessKeyId -> secret. Secrets never leave this module except to the signature check. */
export class AccessKeys {
  private readonly secrets = new Map<string, string>();
  private readonly fixed: boolean;

  /** Keys given here are fixed for the emulator's lifetime: scenario loads do not replace them. */
  constructor(fixedKeys?: Record<string, string>) {
    this.fixed = fixedKeys !== undefined;
    if (fixedKeys) this.replace(fixedKeys);
  }

  /** On a scenario load: the scenario's keys, else the environment's, replace the old ones (unless fixed). */
  load(scenarioKeys: Record<string, string> | undefined, envKeys: Record<string, string> | undefined): void {
    if (this.fixed) return;
    const keys = scenarioKeys ?? envKeys;
    if (keys) this.replace(keys);
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.secrets.get(accessKeyId);
  }

  ids(): string[] {
    return [...this.secrets.keys()];
  }

  private replace(keys: Record<string, string>): void {
    this.secrets.clear();
    for (const [id, secret] of Object.entries(keys)) this.secrets.set(id, secret);
  }
}
