import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, it, expect } from 'vitest';

/**
 * docs/ram-policy.json grants exactly the API actions the cloud client can send: found in the
 * source with the TypeScript checker (every `rpc.invoke` / `rpc.call` in src/aliyun, with the
 * action as a literal or as a parameter typed as a union of literals), so a new call without a
 * policy update, or a stale grant, fails here.
 */
const root = path.resolve(__dirname, '../..');
const aliyunDir = path.join(root, 'src/aliyun');

function actionsSentByClient(): Set<string> {
  const files = readdirSync(aliyunDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(aliyunDir, f));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    // Only src/aliyun's own files: the actions are literals or unions declared there. Following
    // imports (config, envconfig, the SDK) would only make the checker slower.
    noResolve: true,
    types: [],
    noLib: true,
  });
  const checker = program.getTypeChecker();
  const found = new Set<string>();
  const literals = (node: ts.Expression): string[] => {
    if (ts.isStringLiteralLike(node)) return [node.text];
    const type = checker.getTypeAtLocation(node);
    const parts = type.isUnion() ? type.types : [type];
    const out = parts.filter((t): t is ts.StringLiteralType => t.isStringLiteral()).map((t) => t.value);
    if (out.length !== parts.length)
      throw new Error(
        `cannot tell which action ${node.getText()} is (${checker.typeToString(type)}) ` +
          `at ${node.getSourceFile().fileName}`,
      );
    return out;
  };
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(aliyunDir)) continue;
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ['invoke', 'call'].includes(node.expression.name.text) &&
        node.expression.expression.getText(sf).endsWith('rpc')
      ) {
        const [product, action] = node.arguments;
        if (product && action)
          for (const p of literals(product)) for (const a of literals(action)) found.add(`${p}:${a}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

interface Statement {
  Effect: string;
  Action: string[];
  Resource: string | string[];
}
const policy = JSON.parse(readFileSync(path.join(root, 'docs/ram-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Statement[];
};
const granted = policy.Statement.flatMap((s) => s.Action);

describe('docs/ram-policy.json', () => {
  it('is a valid RAM policy document that only allows, with no wildcard actions', () => {
    expect(policy.Version).toBe('1');
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(s.Resource).toBe('*');
      for (const a of s.Action) expect(a).toMatch(/^(ess|slb|alb|nlb):[A-Z][A-Za-z]+$/);
    }
    expect(new Set(granted).size).toBe(granted.length);
  });

  it('grants exactly the actions the cloud client sends', () => {
    const sent = actionsSentByClient();
    // The product names the client uses are the RAM service prefixes (ess, slb, alb, nlb).
    expect([...sent].sort()).toEqual([...granted].sort());
  });

  it('covers the operations the worker is documented to call', () => {
    expect(granted.sort()).toEqual([
      'alb:ListAsynJobs',
      'alb:ListServerGroupServers',
      'alb:UpdateServerGroupServersAttribute',
      'ess:CompleteLifecycleAction',
      'ess:DescribeLifecycleActions',
      'ess:DescribeLifecycleHooks',
      'ess:DescribeScalingActivities',
      'ess:DescribeScalingGroups',
      'ess:DescribeScalingInstances',
      'ess:EnterStandby',
      'ess:ExitStandby',
      'ess:RemoveInstances',
      'nlb:GetJobStatus',
      'nlb:ListServerGroupServers',
      'nlb:UpdateServerGroupServersAttribute',
      'slb:DescribeHealthStatus',
      'slb:DescribeLoadBalancerAttribute',
      'slb:DescribeVServerGroupAttribute',
      'slb:SetBackendServers',
      'slb:SetVServerGroupAttribute',
    ]);
  });
});
