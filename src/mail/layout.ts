// Paths under `.beads/mail/` (docs/mail.md, "Layout"). Pure: every mail path is built here.
import { BEADS } from '../store/layout.js';

export const MAIL_DIR = `${BEADS}/mail`;
/** Inside a folder: `.state/<reader folder>/<id>.<mark>`, one empty file per mark. */
export const STATE_DIR = '.state';
export const MARKS = ['read', 'ack', 'archived', 'claim'] as const;
export type Mark = (typeof MARKS)[number];

/** Repo-relative path of a message copy. */
export function messageRel(folder: string, id: string): string {
  return `${MAIL_DIR}/${folder}/${id}.md`;
}

/** Repo-relative path of a reader's mark on a message. */
export function stateRel(folder: string, reader: string, id: string, mark: Mark): string {
  return `${MAIL_DIR}/${folder}/${STATE_DIR}/${reader}/${id}.${mark}`;
}
