"""Run the reliability tests and write their counts into ``docs/reliability.md``.

The counts come from the test run itself: a pytest plugin records the outcome of every
test in the four reliability test files and the numbers that the property and
concurrency tests report through ``record_property``. Run from the repository root::

    python benchmarks/reliability.py              # small, fixed Hypothesis budget
    python benchmarks/reliability.py --nightly    # the large Hypothesis budget

The script prints the table, replaces the table in ``docs/reliability.md`` unless
``--no-write`` is given, and exits with pytest's exit status.
"""

import argparse
import datetime
import os
import platform
import re
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reliability.md"
START = "<!-- reliability-table:start -->"
END = "<!-- reliability-table:end -->"
FILES = {
    "odd data": "tests/test_robustness.py",
    "properties": "tests/test_properties.py",
    "faults": "tests/test_faults.py",
    "concurrency": "tests/test_concurrency.py",
}


class OutcomeCollector:
    """A pytest plugin that records each test's outcome and reported properties."""

    def __init__(self):
        self.outcomes = {}
        self.properties = defaultdict(dict)

    def pytest_runtest_logreport(self, report):
        # A test counts as passed only if its setup, call and teardown all passed.
        if report.when == "call" or report.outcome != "passed":
            if self.outcomes.get(report.nodeid) != "failed":
                self.outcomes[report.nodeid] = report.outcome
        self.properties[report.nodeid].update(dict(report.user_properties))


def _tests_in(collector, path):
    return {
        nodeid: outcome
        for nodeid, outcome in collector.outcomes.items()
        if nodeid.split("::")[0] == path
    }


def _summarise(collector):
    """Return the rows of the table as (what, tried, held, detail) tuples."""
    odd = _tests_in(collector, FILES["odd data"])
    passed = [nodeid for nodeid, outcome in odd.items() if outcome == "passed"]
    rejected = [nodeid for nodeid in passed if "rejects" in nodeid.split("::")[1]]
    odd_row = (
        "Odd-data cases",
        len(odd),
        len(passed),
        f"{len(passed) - len(rejected)} handled, {len(rejected)} "
        "rejected with a clear error",
    )

    properties = _tests_in(collector, FILES["properties"])
    examples = fitted = rejected_examples = 0
    for nodeid in properties:
        reported = collector.properties[nodeid]
        examples += reported.get("examples", 0)
        fitted += reported.get("fitted", 0)
        rejected_examples += reported.get("rejected", 0)
    all_passed = all(outcome == "passed" for outcome in properties.values())
    property_row = (
        "Property-test examples",
        examples,
        examples if all_passed else 0,
        f"{fitted} random fits valid, {rejected_examples} invalid inputs rejected, "
        f"{examples - fitted - rejected_examples} random prediction inputs normalised",
    )

    faults = _tests_in(collector, FILES["faults"])
    survived = sum(outcome == "passed" for outcome in faults.values())
    fault_row = (
        "Fault cases",
        len(faults),
        survived,
        "divergence, exceptions and interrupts in fit, warm starts, repeated "
        "predictions",
    )

    concurrency = _tests_in(collector, FILES["concurrency"])
    calls = held_calls = 0
    threads = set()
    for nodeid, outcome in concurrency.items():
        reported = collector.properties[nodeid]
        calls += reported.get("calls", 0)
        held_calls += reported.get("calls", 0) if outcome == "passed" else 0
        threads.add(reported.get("threads", 0))
    concurrency_row = (
        "Concurrent calls",
        calls,
        held_calls,
        f"{len(concurrency)} loads of up to {max(threads, default=0)} threads at "
        "once, every result equal to a single-threaded call",
    )
    return [odd_row, property_row, fault_row, concurrency_row]


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _environment(profile, seconds, cpu_seconds):
    import numpy
    import sklearn
    import torch

    return (
        f"Produced by `python benchmarks/reliability.py"
        f"{' --nightly' if profile == 'nightly' else ''}` on "
        f"{datetime.date.today().isoformat()} in {seconds:.0f} s of wall-clock time "
        f"and {cpu_seconds:.0f} s of CPU time: Python "
        f"{platform.python_version()}, numpy {numpy.__version__}, scikit-learn "
        f"{sklearn.__version__}, torch {torch.__version__}, {os.cpu_count()} CPU "
        f"cores ({platform.machine()}), Hypothesis profile `{profile}`."
    )


def render_table(rows, environment):
    """Return the Markdown table of the counts, followed by how it was made."""
    lines = [
        "| What | Tried | Held | Detail |",
        "| --- | ---: | ---: | --- |",
    ]
    for what, tried, held, detail in rows:
        lines.append(f"| {what} | {tried} | {held} | {detail} |")
    return "\n".join(lines) + "\n\n" + environment + "\n"


def write_table(table, page=PAGE):
    """Replace the text between the table markers of ``page`` with ``table``."""
    text = page.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), flags=re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{page} has no '{START}' ... '{END}' markers to replace.")
    replacement = f"{START}\n{table}{END}"
    page.write_text(pattern.sub(lambda _: replacement, text), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--nightly",
        action="store_true",
        help="use the large Hypothesis example budget (HYPOTHESIS_PROFILE=nightly)",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help=f"print the table without changing {PAGE.relative_to(ROOT)}",
    )
    args = parser.parse_args(argv)

    profile = "nightly" if args.nightly else "ci"
    os.environ["HYPOTHESIS_PROFILE"] = profile
    os.chdir(ROOT)
    collector = OutcomeCollector()
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    status = pytest.main(
        ["-q", "-p", "no:cacheprovider", *FILES.values()], plugins=[collector]
    )
    seconds = time.perf_counter() - started
    cpu_seconds = _cpu_seconds() - cpu_started

    environment = _environment(profile, seconds, cpu_seconds)
    table = render_table(_summarise(collector), environment)
    print(table)
    if not args.no_write:
        write_table(table)
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
