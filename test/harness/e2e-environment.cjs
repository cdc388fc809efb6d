// The Node environment, plus one fact the browser harness needs in its afterEach hook: whether
// the test that just ran failed (jest hands hooks no result). A failed browser test then prints
// what the page showed and what the API answered it, so a failure that only happens beside other
// spec files can be diagnosed from the CI log alone.
const { TestEnvironment } = require('jest-environment-node');

class E2eEnvironment extends TestEnvironment {
  handleTestEvent(event) {
    if (event.name === 'test_start') this.global.__E2E_TEST_FAILED__ = false;
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') {
      this.global.__E2E_TEST_FAILED__ = true;
    }
  }
}

module.exports = E2eEnvironment;
