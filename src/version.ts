// The release this build reports (`gastown --version`), also part of the key of answers kept
// in .beads/.cache; test/cli/version.test.ts pins it to package.json.
export const VERSION = '0.1.0';
