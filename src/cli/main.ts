#!/usr/bin/env node
// Entry point of the `pban` binary. Exit by setting exitCode, so stdout drains.
import { main } from './program.js';

process.exitCode = await main(process.argv);
