/** `npm run demo`: the `demo` command of the CLI, so both take the same flags. */
import { main } from './cli';

main(['demo', ...process.argv.slice(2)]);
