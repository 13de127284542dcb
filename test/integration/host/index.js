// The extensionTestsPath module: VS Code calls run() inside the extension host; when it settles the
// window reports 0 (resolved) or 1 (rejected). It runs every host/*.test.js, one test at a time.
// Progress goes to the page console (lines starting with RESULT_PREFIX: a start line, then a result)
// and the results, when the runner asks for them, to a JSON file (FEATURE_LENS_IT_RESULTS).
const fs = require('fs');
const path = require('path');
const { collect } = require('./harness');

const RESULT_PREFIX = '[feature-lens-it]';

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`"${name}" did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

exports.run = async function run() {
  const files = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.test.js'))
    .sort();
  const filters = JSON.parse(process.env.FEATURE_LENS_IT_FILTER || '[]');
  const results = [];
  for (const file of files) {
    const tests = collect([path.join(__dirname, file)]);
    for (const { name, fn, timeout } of tests) {
      const fullName = `host › ${file.replace(/\.test\.js$/, '')} › ${name}`;
      if (filters.length > 0 && !filters.some((part) => fullName.includes(part))) continue;
      // Tells the runner how long this test may take, so it can tell a slow test from a dead host.
      console.log(`${RESULT_PREFIX} ${JSON.stringify({ start: fullName, timeout })}`);
      const start = Date.now();
      try {
        await withTimeout(Promise.resolve().then(fn), timeout, name);
        results.push({ name: fullName, ok: true, ms: Date.now() - start });
      } catch (error) {
        const message = String((error && error.stack) || error);
        results.push({ name: fullName, ok: false, ms: Date.now() - start, error: message });
      }
      console.log(`${RESULT_PREFIX} ${JSON.stringify(results[results.length - 1])}`);
    }
  }
  if (process.env.FEATURE_LENS_IT_RESULTS) {
    fs.writeFileSync(process.env.FEATURE_LENS_IT_RESULTS, JSON.stringify(results, null, 2));
  }
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) throw new Error(`${failed} of ${results.length} host tests failed`);
};
