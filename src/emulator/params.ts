import { invalidParameter, missingParameter } from './api-error';

/** Typed reads of the flat RPC parameters, answering MissingParameter / InvalidParameter like the API. */
export class Params {
  constructor(readonly raw: Readonly<Record<string, string>>) {}

  get(name: string): string | undefined {
    const v = this.raw[name];
    return v === undefined || v === '' ? undefined : v;
  }

  required(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw missingParameter(name);
    return v;
  }

  /**
   * `Name.1`, `Name.2`, ... in index order; empty values are left out. Non-numeric suffixes are
   * InvalidParameter. With `max` (the list's per-call limit, docs/emulator.md "Per-call limits"), an index
   * above it or a gap in the indexes is InvalidParameter too; without it, gaps are allowed.
   */
  list(name: string, max?: number): string[] {
    const found: Array<[number, string]> = [];
    const prefix = `${name}.`;
    for (const [k, v] of Object.entries(this.raw)) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      if (rest.includes('.')) continue;
      if (!/^[1-9]\d*$/.test(rest)) throw invalidParameter(k);
      found.push([Number(rest), v]);
    }
    found.sort((a, b) => a[0] - b[0]);
    if (max !== undefined) checkIndexes(name, found, max);
    return found.filter(([, v]) => v !== '').map(([, v]) => v);
  }

  /** `Name.N.Field` groups (e.g. ALB `Servers.N.ServerId`), in index order; `max` as for `list`. */
  objectList(name: string, max?: number): Array<Record<string, string>> {
    const byIndex = new Map<number, Record<string, string>>();
    const prefix = `${name}.`;
    for (const [k, v] of Object.entries(this.raw)) {
      if (!k.startsWith(prefix)) continue;
      const m = /^([1-9]\d*)\.([A-Za-z]+)$/.exec(k.slice(prefix.length));
      if (!m) throw invalidParameter(k);
      const n = Number(m[1]);
      const entry = byIndex.get(n) ?? {};
      entry[m[2] as string] = v;
      byIndex.set(n, entry);
    }
    const sorted = [...byIndex.entries()].sort((a, b) => a[0] - b[0]);
    if (max !== undefined) checkIndexes(name, sorted, max);
    return sorted.map(([, e]) => e);
  }

  int(name: string, opts: { min?: number; max?: number; default: number }): number;
  int(name: string, opts: { min?: number; max?: number }): number | undefined;
  int(name: string, opts: { min?: number; max?: number; default?: number }): number | undefined {
    const v = this.get(name);
    if (v === undefined) return opts.default;
    if (!/^-?\d+$/.test(v.trim())) throw invalidParameter(name);
    const n = Number(v);
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max))
      throw invalidParameter(name);
    return n;
  }

  bool(name: string, dflt: boolean): boolean {
    const v = this.get(name);
    if (v === undefined) return dflt;
    const l = v.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
    throw invalidParameter(name);
  }

  /** One of the allowed values (case-sensitive, as the API is). */
  oneOf<T extends string>(name: string, allowed: readonly T[], dflt: T): T {
    const v = this.get(name);
    if (v === undefined) return dflt;
    if (!(allowed as readonly string[]).includes(v)) throw invalidParameter(name);
    return v as T;
  }
}

/**
 * A `.N` list's indexes, sorted, must run 1, 2, ... without a gap and stay within `max`. The reference gives the
 * range ("Valid values of N: 1 to 20"); that a gap is refused is inferred (SDKs never send one).
 */
function checkIndexes(name: string, sorted: ReadonlyArray<readonly [number, unknown]>, max: number): void {
  const param = `${name}.N`;
  sorted.forEach(([n], i) => {
    if (n > max)
      throw invalidParameter(
        param,
        `The specified parameter "${param}" is not valid: N must be 1 to ${max}, got ${name}.${n}.`,
      );
    if (n !== i + 1)
      throw invalidParameter(
        param,
        `The specified parameter "${param}" is not valid: ${name}.${i + 1} is missing before ${name}.${n}.`,
      );
  });
}

/** PageNumber (default 1) / PageSize (default 10, max `maxSize`) paging. */
export function paging(p: Params, maxSize = 50, defaultSize = 10): { pageNumber: number; pageSize: number } {
  return {
    pageNumber: p.int('PageNumber', { min: 1, default: 1 }),
    pageSize: p.int('PageSize', { min: 1, max: maxSize, default: defaultSize }),
  };
}

export function page<T>(items: readonly T[], pageNumber: number, pageSize: number): T[] {
  const start = (pageNumber - 1) * pageSize;
  return items.slice(start, start + pageSize);
}
