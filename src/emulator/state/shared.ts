/** Helpers every store shares. */

/**
 * What the stores hand out: a deep read-only view of their records. Handlers and the admin API
 * read through it and change state only through store methods, which keep the invariants.
 */
export type ReadonlyDeep<T> =
  T extends ReadonlyMap<infer K, infer V>
    ? ReadonlyMap<K, ReadonlyDeep<V>>
    : T extends ReadonlySet<infer V>
      ? ReadonlySet<ReadonlyDeep<V>>
      : T extends ReadonlyArray<infer V>
        ? ReadonlyArray<ReadonlyDeep<V>>
        : T extends object
          ? { readonly [P in keyof T]: ReadonlyDeep<T[P]> }
          : T;

/** `serverId|port`: how vserver groups and ALB server groups key their backends. */
export function backendKey(serverId: string, port: number): string {
  return `${serverId}|${port}`;
}
