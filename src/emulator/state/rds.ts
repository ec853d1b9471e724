/** RDS instances attached to scaling groups: only their status matters (RemoveInstances wants `Running`). */
import type { Scenario } from '../types';

export interface DbInstanceState {
  id: string;
  status: string;
}

export class RdsStore {
  private readonly dbs = new Map<string, DbInstanceState>();

  load(s: Scenario): void {
    this.dbs.clear();
    for (const d of s.dbInstances ?? []) this.dbs.set(d.id, { id: d.id, status: d.status ?? 'Running' });
  }

  dbInstance(id: string): Readonly<DbInstanceState> | undefined {
    return this.dbs.get(id);
  }

  setStatus(id: string, status: string): void {
    const db = this.dbs.get(id);
    if (db) db.status = status;
  }

  snapshot(): Array<{ dbInstanceId: string; status: string }> {
    return [...this.dbs.values()].map((d) => ({ dbInstanceId: d.id, status: d.status }));
  }
}
