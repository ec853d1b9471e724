#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly: the CLI ships with the repository, not as a build.
require('tsx/cjs');
require('../src/cli.ts').main();
