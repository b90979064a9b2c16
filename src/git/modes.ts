// Tree entry modes as git writes them in a tree object and prints them in `ls-files -s` /
// `ls-tree`. A module with no imports, so the engine's chunk can compare modes without loading
// the git process code (cat-file.ts re-exports these for the tree readers).

/** A folder (a tree object prints it without the leading zero). */
export const TREE_MODE = '40000';
/** A submodule: a commit of another repository. */
export const SUBMODULE_MODE = '160000';
/** A symbolic link: the blob holds the link's target. */
export const SYMLINK_MODE = '120000';
