/**
 * The published request-signature examples both signers are checked against: the client's
 * (src/aliyun/signer.ts) and the emulator's own (src/emulator/signature.ts).
 */

/** ECS DescribeRegions example of the "Request signatures" page (AlibabaCloudDocs/ecs). */
export const ECS_PARAMS = {
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  Format: 'XML',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  SignatureVersion: '1.0',
  Timestamp: '2016-02-23T12:46:24Z',
  Version: '2014-05-26',
};

/** ESS DescribeScalingGroups example of ESS "Signatures.md" (AlibabaCloudDocs/ess), spelled `TimeStamp`. */
export const ESS_PARAMS = {
  TimeStamp: '2014-08-15T11:10:07Z',
  Format: 'xml',
  AccessKeyId: 'testid',
  Action: 'DescribeScalingGroups',
  SignatureMethod: 'HMAC-SHA1',
  RegionId: 'cn-qingdao',
  SignatureNonce: '1324fd0e-e2bb-4bb1-917c-bd6e437f1710',
  SignatureVersion: '1.0',
  Version: '2014-08-28',
};
