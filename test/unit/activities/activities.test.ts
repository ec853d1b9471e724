/**
 * The activity unit tests, in one test file on purpose: MockActivityEnvironment loads the Temporal
 * worker package, about 0.6 s per test file (each runs in a fresh process), many times what the
 * tests themselves take. Each suite stays in its own module, named after the activity it covers.
 */
import './remove.suite';
import './drain.suite';
import './preflight.suite';
import './poll.suite';
import './select-instances.suite';
import './failures.suite';
import './observability.suite';
import './nlb.suite';
import './remove-and-follow.suite';
