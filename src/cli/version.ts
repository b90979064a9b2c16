// The release this build reports (`gastown --version`); test/cli/version.test.ts pins it to
// package.json.
export const VERSION = '0.1.0';
