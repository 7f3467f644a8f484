#!/usr/bin/env node
// The `greenraft` command. npm links a bin only if its file exists when it installs, and dist/
// is built later, so the bin is this committed file: it loads the built command, or says how to
// build it.
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
const fail = (line) => {
  process.stderr.write(`greenraft: ${line}\n`);
  process.exit(2);
};
// Installed from the registry, everything is built; a miss there means a broken install.
// (npm runs a bin from its real path, so in the workspace this is apps/cli/bin, outside node_modules.)
const installed = fileURLToPath(import.meta.url).split(sep).includes('node_modules');
const notBuilt = (what) =>
  fail(installed ? `${what} is missing; reinstall @greenraft/cli` : `${what} is not built yet; run npm run build first (at the root of the greenraft repository)`);

if (!existsSync(built)) notBuilt('the command');
try {
  await import(built.href);
} catch (error) {
  const message = String(error?.message ?? error);
  // In a clone, the packages the command imports are built by the same `npm run build`.
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && /@greenraft[\\/]|[\\/]packages[\\/]/.test(message)) {
    notBuilt(`a package it needs (${message.replace(/^Cannot find module '([^']+)'.*$/s, '$1')})`);
  }
  if (process.argv.includes('--debug')) fail(`could not load the command: ${error?.stack ?? message}`);
  fail(`could not load the command: ${message.split('\n')[0]} (run again with --debug for the stack trace)`);
}
