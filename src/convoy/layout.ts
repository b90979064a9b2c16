// Where convoys live (docs/convoys.md): paths only, so a caller that lists convoys without
// reading them (patrol's head) loads nothing else of the convoy code.
import { BEADS } from '../store/layout.js';

export const CONVOYS_DIR = `${BEADS}/convoys`;
export const CONVOY_FILE = 'convoy.toml';
export const LANDED_FILE = 'landed.toml';
export const CLOSED_FILE = 'closed.toml';
