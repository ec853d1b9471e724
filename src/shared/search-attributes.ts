import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes, visible in the Temporal UI's list and filters.
 * Registered by the dev server launcher (tests, demo) and documented for production clusters.
 */
export const SA_SCALING_GROUP_ID = defineSearchAttributeKey('EssScalingGroupId', SearchAttributeType.KEYWORD);
export const SA_REGION_ID = defineSearchAttributeKey('EssRegionId', SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey('EssPhase', SearchAttributeType.KEYWORD);
export const SA_INSTANCES_TOTAL = defineSearchAttributeKey('EssInstancesTotal', SearchAttributeType.INT);
export const SA_INSTANCES_REMOVED = defineSearchAttributeKey('EssInstancesRemoved', SearchAttributeType.INT);
export const SA_INSTANCES_FAILED = defineSearchAttributeKey('EssInstancesFailed', SearchAttributeType.INT);

export const ALL_SEARCH_ATTRIBUTES = [
  SA_SCALING_GROUP_ID,
  SA_REGION_ID,
  SA_PHASE,
  SA_INSTANCES_TOTAL,
  SA_INSTANCES_REMOVED,
  SA_INSTANCES_FAILED,
] as const;

/** `Name=Type` as `temporal server start-dev --search-attribute` and `temporal operator` take it. */
export function searchAttributeCliArgs(): string[] {
  const cliType: Record<string, string> = {
    KEYWORD: 'Keyword',
    INT: 'Int',
    TEXT: 'Text',
    BOOL: 'Bool',
    DOUBLE: 'Double',
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
  };
  return ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${cliType[k.type] ?? 'Keyword'}`]);
}
