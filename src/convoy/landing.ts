// What landing a convoy writes: the summary mail to its owner and `landed.toml`. Apart from the
// view (plan.ts) because only the lander needs the mail code. Pure: the caller writes the files.
import { addressFolder, ENGINE_SENDER } from '../mail/address.js';
import { messageRel } from '../mail/layout.js';
import { renderMessage } from '../mail/message.js';
import type { MailFile } from '../mail/typed.js';
import { convoyRel, LANDED_FILE, renderLanded } from './model.js';
import type { ConvoyView } from './plan.js';

/** The id of the one summary a landed convoy sends its owner. */
export function landedMailId(convoy: string): string {
  return `${convoy}.convoy-landed`;
}

/** What landing writes: the summary mail to the owner, then `landed.toml`. Deterministic bytes. */
export interface LandingPlan {
  mail: MailFile[];
  landed: { path: string; content: string };
}

/**
 * The landing of a convoy whose members all completed and that has not landed or closed, else
 * undefined. Names and bytes depend only on the convoy and its members, so two runs or two
 * clones write identical files.
 */
export function planLanding(view: ConvoyView): LandingPlan | undefined {
  if (view.state !== 'landing') return undefined;
  const ids = view.molecules.map((m) => m.id);
  const lines = [
    `Convoy \`${view.id}\` (${view.name}) has landed: ${view.progress.done}/${view.progress.total} molecules completed.`,
    '',
    ...view.molecules.map((m) => `- \`${m.id}\`${m.remote ? ` (${m.remote})` : ''}: completed`),
  ];
  if (view.teams.length > 0) lines.push('', `Teams: ${view.teams.join(', ')}`);
  const content = renderMessage(
    {
      from: ENGINE_SENDER,
      to: [view.owner],
      subject: `Convoy landed: ${view.name}`,
      type: 'CONVOY_LANDED',
      thread: view.id,
    },
    `${lines.join('\n')}\n`,
  );
  const folder = addressFolder(view.owner);
  const id = landedMailId(view.id);
  return {
    mail: [{ path: messageRel(folder, id), mailbox: view.owner, folder, id, content }],
    landed: { path: convoyRel(view.id, LANDED_FILE), content: renderLanded(view.id, ids) },
  };
}
