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

  /** `Name.1`, `Name.2`, ... in index order (gaps allowed). Non-numeric suffixes are InvalidParameter. */
  list(name: string): string[] {
    const found: Array<[number, string]> = [];
    const prefix = `${name}.`;
    for (const [k, v] of Object.entries(this.raw)) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      if (rest.includes('.')) continue;
      if (!/^[1-9]\d*$/.test(rest)) throw invalidParameter(k);
      if (v !== '') found.push([Number(rest), v]);
    }
    return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  /** `Name.N.Field` groups (e.g. ALB `Servers.N.ServerId`), in index order. */
  objectList(name: string): Array<Record<string, string>> {
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
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
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
