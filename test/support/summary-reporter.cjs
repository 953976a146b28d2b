// Mocha reporter: the spec reporter's output, plus the run's counts appended as one JSON
// line to $BERTH_TEST_STATS so hack/test.sh can print one closing line for all suites:
// "tests: N passed, N failed, N skipped".
const Mocha = require("mocha");
const fs = require("node:fs");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.BERTH_TEST_STATS;
      if (!file) return;
      const s = this.stats;
      const line = { suite: process.env.BERTH_TEST_SUITE || "tests", passed: s.passes, failed: s.failures, skipped: s.pending };
      fs.appendFileSync(file, JSON.stringify(line) + "\n");
    });
  }
}
module.exports = SummaryReporter;
