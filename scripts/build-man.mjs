#!/usr/bin/env node
// Writes dist/man/pban.1 from the built CLI's own help (src/cli/man-page.ts). Run after tsc by
// npm run build and npm's prepare (npm ci, npm pack); package.json's "man" installs the page.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { manPage } = await import(path.join(root, 'dist/src/cli/man-page.js'));
const out = path.join(root, 'dist/man/pban.1');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, await manPage());
