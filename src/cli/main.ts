#!/usr/bin/env node
// Entry point: the composition root, and the only module that calls process.exit. The command
// itself runs in run.ts on the process's descriptors, so `gastown --help` stays close to
// `node -e 0` (the command table loads lazily).
import { installGatePlugins } from '../engine/plugins.js';
import { ExitCode } from '../errors.js';
import { writeOutput } from './context.js';
import { runCommand } from './run.js';
import { HOOK_SHORTCUT, shortcutCall } from './shortcuts.js';

/** The composition root: the gate kinds the engine plans with, loaded on first need. */
function installPlugins(): void {
  installGatePlugins(async () => (await import('../gates/index.js')).registerBuiltInGates());
}

const args = process.argv.slice(2);
// git waits for the hook: what a hook stopped at its time limit left running (a git call, a
// lock wait) must not hold it.
const exitAtOnce = shortcutCall(args)?.shortcut === HOOK_SHORTCUT;

installPlugins();
runCommand(args, { env: process.env, cwd: process.cwd(), write: writeOutput }).then(
  (code) => {
    if (exitAtOnce) process.exit(code);
    process.exitCode = code;
  },
  (err) => {
    writeOutput(2, `internal error: ${String(err)}\n`);
    process.exit(ExitCode.failure);
  },
);
