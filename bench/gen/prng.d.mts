// Types for prng.mjs, which the property tests share with the generators.
export declare function prng(seed: number): {
  next: () => number;
  int: (n: number) => number;
  weighted: (weights: readonly number[]) => number;
};
