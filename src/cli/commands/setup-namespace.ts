import type { Command } from 'commander';
import { setupNamespace } from '../../client';
import { ALL_SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import { globalsOf, temporalConfig, withClient } from '../connect';
import { EXIT, printJson, type Done, type Io } from '../io';

const HELP = `
Registers the custom search attributes every run sets (${ALL_SEARCH_ATTRIBUTES.map((a) => a.name).join(', ')})
in the namespace, through the operator API. An operator's step, once per namespace: a worker's identity
should not hold operator rights. Safe to run again. On Temporal Cloud the operator API is not open to
namespace users: add the attributes in the Cloud UI or with tcld namespace search-attributes add.

With SQL visibility (PostgreSQL, MySQL, SQLite) each type has a fixed number of custom slots; when no
slot is free the server refuses and this command says so (exit 1).`;

export function registerSetupNamespace(program: Command, io: Io, done: Done): void {
  program
    .command('setup-namespace')
    .summary("register the project's search attributes in the namespace (operator step)")
    .description('Register the search attributes ess-scale-in sets on its runs, in --namespace.')
    .addHelpText('after', HELP)
    .action(async (_flags: unknown, self: Command) => {
      const g = globalsOf(self);
      const namespace = temporalConfig(g).namespace;
      const r = await withClient(g, (c) => setupNamespace(c.client.connection, namespace));
      if (g.json) printJson(io, { ok: true, ...r });
      else
        io.out(
          r.added.length
            ? `namespace ${r.namespace}: added ${r.added.join(', ')}` +
                (r.alreadyThere.length ? `; already there: ${r.alreadyThere.join(', ')}` : '')
            : `namespace ${r.namespace}: every search attribute is already registered (${r.alreadyThere.join(', ')})`,
        );
      done(EXIT.ok);
    });
}
