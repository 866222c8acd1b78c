#!/usr/bin/python3
"""Run the simulator's tests: tests/sim/test_*.py (unittest).

  run_tests.py                      every test module
  run_tests.py test_s3 test_core    some modules (with or without .py)
  run_tests.py test_s3.S3Objects.test_range_get   one class or test

Prints one line per test, the failures in full, and ends with `N passed, N failed`
(plus `, N skipped` when some were skipped). Exit status 1 when anything failed.
"""

import os
import pathlib
import sys
import time
import traceback
import unittest

HERE = pathlib.Path(__file__).resolve().parent

if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
        os.path.realpath("/usr/bin/python3") and not os.environ.get("LCSIM_NO_REEXEC"):
    os.environ["LCSIM_NO_REEXEC"] = "1"
    os.execv("/usr/bin/python3", ["/usr/bin/python3", __file__] + sys.argv[1:])

sys.path.insert(0, str(HERE))


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0
        self.t0 = {}

    def startTest(self, test):
        super().startTest(test)
        self.t0[test] = time.time()

    def _line(self, test, word):
        secs = time.time() - self.t0.get(test, time.time())
        print(f"{word:5} {test.id()} ({secs:.2f}s)", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(test, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        # errors in setUpClass/tearDownClass come with a _ErrorHolder, not a test
        self._line(test, "ERROR")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, "skip")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line(test, "ok")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(test, "FAIL")


def load(names):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    if not names:
        names = sorted(p.stem for p in HERE.glob("test_*.py"))
    for name in names:
        name = name[:-3] if name.endswith(".py") else name
        name = os.path.basename(name) if "/" in name else name
        try:
            suite.addTests(loader.loadTestsFromName(name))
        except Exception:
            # an import error is a failure of that module, not a crash of the runner
            tb = traceback.format_exc()

            def broken(self, tb=tb):
                self.fail(f"cannot load {name}:\n{tb}")
            cls = type(f"Load_{name.replace('.', '_')}", (unittest.TestCase,),
                       {"test_load": broken})
            suite.addTest(cls("test_load"))
    return suite


def main(argv):
    suite = load(argv)
    result = Result()
    t0 = time.time()
    suite.run(result)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    for test, tb in result.failures + result.errors:
        print("=" * 70)
        print(f"FAIL: {test.id() if hasattr(test, 'id') else test}")
        print("-" * 70)
        print(tb)
    print(f"# {time.time() - t0:.1f}s")
    line = f"{result.passed} passed, {failed} failed"
    if result.skipped:
        line += f", {len(result.skipped)} skipped"
    print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
