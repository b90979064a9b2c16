'use strict';
// Preloaded (NODE_OPTIONS --require, see testEnv) into every node process a test starts: the CLI
// and each git hook compile the bundle from scratch at every start, about a third of a short
// command's CPU time, and the suite starts thousands of them. This keeps V8's code cache of each
// file under dist/ in the run's temp folder, made at the exit of the first process that ran the
// same command (so it holds the functions that command ran, not only the top level; making one
// costs more than the command saves, so it is made once), and hands it to V8 in later processes.
// Node 22's module.enableCompileCache does this; Node 20 has only vm.Script's cachedData.
// Compilation only: what the code does is unchanged, and a cache V8 rejects is made again.
const Module = require('node:module');
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');

const cacheDir = process.env.GASTOWN_TEST_COMPILE_CACHE;
const under = process.env.GASTOWN_TEST_COMPILE_CACHE_FOR;

if (cacheDir && under) {
  const vm = require('node:vm');
  // The command (`molecule status`, `hook post-commit`): what decides which functions run.
  const command = process.argv
    .slice(2, 4)
    .filter((a) => /^[a-z][a-z0-9-]*$/.test(a))
    .join('-');
  /** Scripts compiled without a usable cache, and the file their cache goes to at exit. */
  const toWrite = [];
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (!filename.startsWith(under)) return compile.call(this, content, filename);
    // A rebuilt dist/ is a new file (the build swaps folders), so the inode and times name it.
    const st = statSync(filename);
    const file = join(cacheDir, `${basename(filename)}-${st.ino}-${st.size}-${st.mtimeMs}.${command}`);
    let cachedData;
    try {
      cachedData = readFileSync(file);
    } catch {
      // Not made yet.
    }
    // As node compiles it: the CommonJS wrapper, a shebang line made a comment.
    const source = Module.wrap(content.startsWith('#!') ? `//${content}` : content);
    const script = new vm.Script(source, { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) toWrite.push({ file, script });
    const wrapper = script.runInThisContext({ displayErrors: true });
    const require = (id) => this.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, this, false, options);
    require.main = process.mainModule;
    require.cache = Module._cache;
    return wrapper.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };
  process.once('exit', () => {
    for (const { file, script } of toWrite) {
      const temp = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, file);
      } catch {
        // A cache is an optimisation: the next process makes it.
      }
    }
  });
}
