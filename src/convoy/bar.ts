// The progress bar `convoy show` and `convoy list` print; a module of its own so printing a kept
// view loads none of the convoy reader.

/** `[########............]`: `width` cells, filled in proportion. */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
