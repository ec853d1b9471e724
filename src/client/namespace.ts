import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../shared/search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** The SDK's type names (`KEYWORD`, `INT`) as the server's enum. */
const SERVER_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** `EssPhase (Keyword)`, as messages name an attribute. */
function label(a: { name: string; type: string }): string {
  const t = a.type.toLowerCase().replace(/(^|_)(\w)/g, (_, __: string, c: string) => c.toUpperCase());
  return `${a.name} (${t})`;
}

/** How an operator registers the attributes on each kind of cluster; part of every message about them. */
export const REGISTER_HINT =
  'an operator registers them with: ess-scale-in setup-namespace (self-hosted Temporal); on Temporal Cloud, ' +
  'add them to the namespace in the Cloud UI or with tcld namespace search-attributes add';

/** Some of the project's search attributes are not registered in the namespace: runs cannot start. */
export class SearchAttributesMissingError extends Error {
  override readonly name = 'SearchAttributesMissingError' as const;
  readonly code = 'SearchAttributesMissing' as const;
  constructor(
    readonly namespace: string,
    readonly missing: ReadonlyArray<{ name: string; type: string }>,
    detail?: string,
  ) {
    super(
      `namespace ${namespace} lacks the search attribute(s) ess-scale-in sets on its runs: ` +
        `${missing.map(label).join(', ')}${detail ? ` (server: ${detail})` : ''}; ${REGISTER_HINT}`,
    );
  }
}

/** The server refused to add attributes (SQL visibility has a fixed number of slots per type). */
export class SearchAttributesRefusedError extends Error {
  override readonly name = 'SearchAttributesRefusedError' as const;
  readonly code = 'SearchAttributesRefused' as const;
  constructor(
    readonly namespace: string,
    readonly wanted: ReadonlyArray<{ name: string; type: string }>,
    detail: string,
  ) {
    super(
      `the server refused to add ${wanted.map(label).join(', ')} to namespace ${namespace}: ${detail}. ` +
        'With SQL visibility (PostgreSQL, MySQL, SQLite) each type has a fixed number of custom slots ' +
        '(3 Int, 10 Keyword on Temporal 1.29): free slots by removing unused attributes, ' +
        'or use Elasticsearch visibility',
    );
  }
}

/** The project's attributes missing from the namespace, each with its type. */
export async function missingSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
): Promise<Array<{ name: string; type: string }>> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set([...Object.keys(res.customAttributes ?? {}), ...Object.keys(res.systemAttributes ?? {})]);
  return ALL_SEARCH_ATTRIBUTES.filter((a) => !have.has(a.name)).map((a) => ({ name: a.name, type: a.type }));
}

export interface SetupResult {
  namespace: string;
  added: string[];
  alreadyThere: string[];
}

/**
 * Registers the project's search attributes in the namespace (an operator's step: it needs the
 * operator API, which a worker's identity should not hold). Safe to run again.
 */
export async function setupNamespace(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
): Promise<SetupResult> {
  const missing = await missingSearchAttributes(connection, namespace);
  const alreadyThere = ALL_SEARCH_ATTRIBUTES.map((a) => a.name).filter((n) => !missing.some((m) => m.name === n));
  if (!missing.length) return { namespace, added: [], alreadyThere };
  const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const m of missing)
    searchAttributes[m.name] = SERVER_TYPE[m.type] ?? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (e) {
    throw new SearchAttributesRefusedError(namespace, missing, e instanceof Error ? e.message : String(e));
  }
  return { namespace, added: missing.map((m) => m.name), alreadyThere };
}

/** The server's words when a start sets an attribute the namespace lacks ("no mapping defined for …"). */
export function isMissingSearchAttribute(e: unknown): string | undefined {
  for (let x: unknown = e; x instanceof Error; x = x.cause) {
    const m = /no mapping defined for search attribute[^"'\n]*/i.exec(x.message);
    if (m) return m[0];
  }
  return undefined;
}
