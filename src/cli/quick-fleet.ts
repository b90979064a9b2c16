// `gastown convoy show ID` and `gastown patrol` with plain options, answered without commander and
// the command table: what a dashboard or cron runs over and over. Any other shape (help, an
// unknown option, a global option first) takes the full path. The options read here are the ones
// src/cli/table/convoy.ts defines; test/convoy/quick.test.ts keeps the two in step.
import { type PlainOption, plainFlags } from './quick-mail.js';

export const QUICK_FLEET_OPTIONS: Record<'show' | 'patrol', Record<string, PlainOption>> = {
  show: { '--json': { key: 'json', value: false } },
  patrol: {
    '--no-commit': { key: 'commit', value: false, negate: true },
    '--json': { key: 'json', value: false },
  },
};

export type QuickFleetCall =
  | { command: 'show'; id: string; flags: { json?: boolean } }
  | { command: 'patrol'; flags: { commit?: boolean; json?: boolean } };

export function quickFleetCall(args: readonly string[]): QuickFleetCall | undefined {
  if (args[0] === 'patrol') {
    const flags = plainFlags(args, 1, QUICK_FLEET_OPTIONS.patrol);
    return flags && { command: 'patrol', flags: flags as { commit?: boolean; json?: boolean } };
  }
  const id = args[2];
  if (args[0] !== 'convoy' || args[1] !== 'show' || id === undefined || id.startsWith('-')) return undefined;
  const flags = plainFlags(args, 3, QUICK_FLEET_OPTIONS.show);
  return flags && { command: 'show', id, flags: flags as { json?: boolean } };
}
