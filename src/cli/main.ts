#!/usr/bin/env node
import { run } from './entry.js';

process.exitCode = await run(process.argv, process.argv[1] ?? process.argv0);
