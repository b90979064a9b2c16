// Limits shared by the light modules (library, validate), the parser and the resolver, kept
// apart so the validate fast path does not load the parser (smol-toml, zod) just to read a constant.

/** Formulas larger than this are refused before parsing. */
export const MAX_FORMULA_BYTES = 1024 * 1024;

/** After unrolling loops and expansions a formula may not have more steps than this. */
export const MAX_STEPS = 20_000;
