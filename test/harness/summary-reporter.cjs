// Prints the closing `N passed, N failed, N skipped` line CI reads, and makes skipped Citus-only
// tests impossible to miss: they are counted and announced, not silently dropped. So are the
// tests that need docker-compose, Redis or a browser.
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  constructor(globalConfig) {
    // `-t <pattern>` marks every other test skipped: those were left out on purpose, not for want
    // of Citus, Redis or a browser, so they are not announced as such (jest matches the full
    // name, case-insensitively).
    const pattern = globalConfig && globalConfig.testNamePattern;
    this.filteredOut = pattern ? (name) => !new RegExp(pattern, 'i').test(name) : () => false;
  }

  onRunComplete(_contexts, results) {
    // Tagged tests need something the machine may lack: count what was skipped, per tag.
    const skippedByTag = { citus: 0, compose: 0, redis: 0, browser: 0 };
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status !== 'pending' && test.status !== 'skipped') continue;
        if (this.filteredOut(test.fullName)) continue;
        // Counted once, by the innermost tag: a [citus] block inside a [browser] one was skipped
        // for want of Citus.
        let innermost;
        for (const tag of Object.keys(skippedByTag)) {
          const at = test.fullName.lastIndexOf(`[${tag}]`);
          if (at >= 0 && (!innermost || at > innermost.at)) innermost = { tag, at };
        }
        if (innermost) skippedByTag[innermost.tag] += 1;
      }
    }
    const citusSkipped = skippedByTag.citus;
    const passed = results.numPassedTests;
    let failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    let skipped = results.numPendingTests + results.numTodoTests;
    const lines = [''];
    // TEST_REQUIRE=citus,redis,...: where the run was promised those (CI installs them), a test
    // skipped for want of one is a failure, not a skip.
    for (const tag of requiredTags()) {
      const count = skippedByTag[tag] ?? 0;
      if (count === 0) continue;
      lines.push(
        `!! ${count} [${tag}] test(s) skipped although TEST_REQUIRE names ${tag}: counted as FAILED`,
      );
      failed += count;
      skipped -= count;
    }
    if (citusSkipped > 0) {
      const bar = '!'.repeat(78);
      lines.push(
        bar,
        `!! ${citusSkipped} Citus-only test(s) SKIPPED: the citus extension is not in use (not installed, or CITUS=off).`,
        '!! They ran against plain PostgreSQL only. Install Citus (or use Docker) to run them.',
        bar,
      );
    }
    if (skippedByTag.compose > 0) {
      lines.push(
        `!! ${skippedByTag.compose} docker-compose test(s) SKIPPED: docker-compose is not installed (apt-get install docker-compose).`,
      );
    }
    if (skippedByTag.redis > 0) {
      lines.push(
        `!! ${skippedByTag.redis} Redis test(s) SKIPPED: no redis-server (apt-get install redis-server) and no TEST_REDIS_URL; the shared rate limits were not tested.`,
      );
    }
    if (skippedByTag.browser > 0) {
      lines.push(
        `!! ${skippedByTag.browser} browser test(s) SKIPPED: no Chromium (apt-get install chromium); the web console was not tested in a browser.`,
      );
    }
    lines.push(`${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (process.env.TEST_SUMMARY_FILE) {
      writeFileSync(
        process.env.TEST_SUMMARY_FILE,
        JSON.stringify({ passed, failed, skipped, skippedByTag }),
      );
    }
  }
}

/** The tags TEST_REQUIRE names (comma or space separated); global-setup.ts reads it too. */
function requiredTags() {
  return (process.env.TEST_REQUIRE ?? '')
    .split(/[\s,]+/)
    .map((tag) => tag.trim().toLowerCase())
    .filter(Boolean);
}

module.exports = SummaryReporter;
