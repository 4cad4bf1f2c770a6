"""Helpers shared by the benchmark sections: environment, JSON, tables and timers.

Every section module exposes ``run(quick) -> dict`` and ``render(results) -> str``.
The helpers here record where a measurement was taken, write and read the raw
results, format numbers for the markdown tables, and measure wall time and peak
resident memory.
"""

import contextlib
import ctypes
import ctypes.util
import datetime
import gc
import importlib.metadata
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PACKAGES = (
    "skdistill",
    "numpy",
    "scipy",
    "scikit-learn",
    "torch",
    "pandas",
    "joblib",
    "skorch",
)

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent

# Writing "5" to this file resets the kernel's peak resident set size (VmHWM) of the
# process, which Linux supports since version 4.0.
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


# --- where a measurement was taken ------------------------------------------------


def _package_version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _total_memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _git_commit():
    """Return the short commit hash of the checkout, with ``+dirty`` if it has edits."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if status else "")


def describe_environment(command):
    """Record the date, versions, hardware and command of a measurement.

    Parameters
    ----------
    command : str
        The shell command that produced the measurement.

    Returns
    -------
    environment : dict
        JSON-serialisable facts. ``date`` is UTC in ISO 8601, ``versions`` maps
        each of :data:`PACKAGES` to its version (None when not installed), and
        ``commit`` is the checkout's. ``usable_cpus`` counts the CPUs this process
        may run on. ``load_average`` gives the 1, 5 and 15 minute averages of
        runnable processes at the time of the call, which shows whether other work
        shared the cores. The other keys are ``command``, ``python``,
        ``platform``, ``cpu``, ``logical_cpus``, ``memory_bytes`` and
        ``omp_num_threads``.

    Examples
    --------
    >>> from benchmarks._common import describe_environment
    >>> environment = describe_environment("python -m benchmarks.run")
    >>> environment["command"]
    'python -m benchmarks.run'
    >>> sorted(environment["versions"]) == sorted(PACKAGES)
    True
    """
    try:
        load_average = [round(value, 2) for value in os.getloadavg()]
    except OSError:
        load_average = None
    try:
        usable_cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cpus = os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "command": command,
        "python": platform.python_version(),
        "versions": {name: _package_version(name) for name in PACKAGES},
        "commit": _git_commit(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus,
        "memory_bytes": _total_memory_bytes(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average": load_average,
    }


def render_environment(environment):
    """Format a :func:`describe_environment` record as a short markdown paragraph.

    Parameters
    ----------
    environment : dict
        As returned by :func:`describe_environment`.

    Returns
    -------
    text : str
        Three lines: date and versions, hardware and load, command.

    Examples
    --------
    >>> from benchmarks._common import describe_environment, render_environment
    >>> text = render_environment(describe_environment("make bench"))
    >>> text.splitlines()[0].startswith("Measured on ")
    True
    """
    versions = ", ".join(
        f"{name} {version}"
        for name, version in environment["versions"].items()
        if version is not None
    )
    commit = environment.get("commit")
    commit_text = f" (commit {commit})" if commit else ""
    load = environment.get("load_average")
    load_text = "unknown" if load is None else " / ".join(f"{v:.2f}" for v in load)
    memory = environment.get("memory_bytes")
    memory_text = "" if memory is None else f", {format_bytes(memory)} memory"
    return (
        f"Measured on {environment['date']} with Python {environment['python']}; "
        f"{versions}{commit_text}.  \n"
        f"Hardware: {environment['cpu']}, {environment['usable_cpus']} usable of "
        f"{environment['logical_cpus']} logical CPUs{memory_text}; "
        f"{environment['platform']}. Load average at the start (1 / 5 / 15 min): "
        f"{load_text}.  \n"
        f"Command: `{environment['command']}`\n"
    )


# --- raw results --------------------------------------------------------------------


def _to_json(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(
        f"Benchmark results must be JSON-serialisable; got {type(value).__name__}."
    )


def write_json(path, data):
    """Write ``data`` as indented JSON, converting numpy scalars and arrays.

    Parameters
    ----------
    path : str or path-like
        Destination; missing parent folders are created.
    data : dict
        The results. NaN is written as JSON ``NaN``, which Python reads back.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from benchmarks._common import read_json, write_json
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "out.json"
    ...     write_json(path, {"accuracy": np.float64(0.5)})
    ...     read_json(path)
    {'accuracy': 0.5}
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, default=_to_json)
    path.write_text(text + "\n", encoding="utf-8")


def read_json(path):
    """Read a JSON file written by :func:`write_json`.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    data : dict
        The parsed content.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from benchmarks._common import read_json, write_json
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "out.json"
    ...     write_json(path, {"rows": [1, 2]})
    ...     read_json(path)["rows"]
    [1, 2]
    """
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --- markdown -----------------------------------------------------------------------


def markdown_table(header, rows, align=None):
    """Render rows as a GitHub-flavoured markdown table.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : sequence of sequence
        Cells, converted with ``str``; each row has one cell per column.
    align : str, default=None
        One letter per column: ``"l"`` for left, ``"r"`` for right, ``"c"`` for
        centred. None aligns the first column left and the others right.

    Returns
    -------
    table : str
        The table, ending with a newline.

    Raises
    ------
    ValueError
        If a row or ``align`` does not have one entry per column.

    Examples
    --------
    >>> from benchmarks._common import markdown_table
    >>> print(markdown_table(["model", "accuracy"], [["forest", "0.97"]]), end="")
    | model | accuracy |
    |:--|--:|
    | forest | 0.97 |
    """
    n_columns = len(header)
    if align is None:
        align = "l" + "r" * (n_columns - 1)
    if len(align) != n_columns or set(align) - set("lrc"):
        raise ValueError(
            f"align must have one of 'l', 'r' or 'c' per column ({n_columns} "
            f"columns); got {align!r}."
        )
    markers = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = [
        "| " + " | ".join(str(cell) for cell in header) + " |",
        "|" + "|".join(markers[letter] for letter in align) + "|",
    ]
    for index, row in enumerate(rows):
        if len(row) != n_columns:
            raise ValueError(
                f"Row {index} has {len(row)} cells, but the table has {n_columns} "
                f"columns: {list(row)!r}."
            )
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"


def mean_and_spread(values):
    """Return the mean and the sample standard deviation of ``values``.

    The spread of a single value is 0. NaN values are left out, and with no value
    left both results are NaN.

    Examples
    --------
    >>> from benchmarks._common import mean_and_spread
    >>> mean_and_spread([0.9, 1.0, 1.1])
    (1.0, 0.1)
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return math.nan, math.nan
    spread = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return round(float(values.mean()), 12), round(spread, 12)


def format_mean_spread(mean, spread, *, scale=1.0, digits=2):
    """Format a mean and its standard deviation as ``"mean ± spread"``.

    Examples
    --------
    >>> from benchmarks._common import format_mean_spread
    >>> format_mean_spread(0.97123, 0.0031, scale=100)
    '97.12 ± 0.31'
    """
    if math.isnan(mean):
        return "n/a"
    return f"{mean * scale:.{digits}f} ± {spread * scale:.{digits}f}"


def format_seconds(seconds):
    """Format a duration with a unit that keeps three significant digits.

    Examples
    --------
    >>> from benchmarks._common import format_seconds
    >>> format_seconds(2.5e-5), format_seconds(0.0123), format_seconds(75.0)
    ('25.0 µs', '12.3 ms', '75.0 s')
    >>> format_seconds(4.2e-6), format_seconds(0.5)
    ('4.20 µs', '500 ms')
    """
    if seconds is None or math.isnan(seconds):
        return "n/a"
    if seconds < 1e-3:
        return f"{_three_significant_digits(seconds * 1e6)} µs"
    if seconds < 1.0:
        return f"{_three_significant_digits(seconds * 1e3)} ms"
    return f"{seconds:.1f} s"


def _three_significant_digits(value):
    if value <= 0:
        return f"{value:.2f}"
    decimals = max(0, 2 - math.floor(math.log10(value)))
    return f"{value:.{decimals}f}"


def format_bytes(n_bytes):
    """Format a byte count in KB, MB or GB (powers of 1000).

    Examples
    --------
    >>> from benchmarks._common import format_bytes
    >>> format_bytes(276_543), format_bytes(104_181_000)
    ('277 KB', '104.2 MB')
    """
    if n_bytes is None:
        return "n/a"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n_bytes) >= size:
            digits = 0 if unit == "KB" else 1
            return f"{n_bytes / size:.{digits}f} {unit}"
    return f"{n_bytes:.0f} B"


def format_verdict(met):
    """Return ``"met"`` or ``"**missed**"`` for a target check.

    Examples
    --------
    >>> from benchmarks._common import format_verdict
    >>> format_verdict(True), format_verdict(False)
    ('met', '**missed**')
    """
    return "met" if met else "**missed**"


def render_targets(targets):
    """Render a list of target checks as a markdown table.

    Parameters
    ----------
    targets : list of dict
        Each with ``target`` (what is required), ``measured`` (the value, as
        text) and ``met`` (bool).

    Returns
    -------
    table : str

    Examples
    --------
    >>> from benchmarks._common import render_targets
    >>> rows = [{"target": "ratio >= 2", "measured": "3.1", "met": True}]
    >>> print(render_targets(rows).splitlines()[2])
    | ratio >= 2 | 3.1 | met |
    """
    rows = [
        [check["target"], check["measured"], format_verdict(check["met"])]
        for check in targets
    ]
    return markdown_table(["target", "measured", "verdict"], rows, align="lrl")


# --- timers and memory --------------------------------------------------------------


def median_time(function, *, min_calls=5, max_calls=10_000, budget_s=2.0):
    """Return the median wall time of calls of ``function()``, after one warm-up call.

    Calls repeat until ``budget_s`` seconds have passed or ``max_calls`` were made,
    but at least ``min_calls`` times, so a fast function is called many times and a
    slow one a few.

    Parameters
    ----------
    function : callable
        Called with no arguments.
    min_calls, max_calls : int, default=5 and 10000
        Bounds on the number of timed calls.
    budget_s : float, default=2.0
        Time after which no further call starts once ``min_calls`` are done.

    Returns
    -------
    median_s : float
        Median seconds per call.
    n_calls : int
        Number of timed calls.

    Examples
    --------
    >>> from benchmarks._common import median_time
    >>> seconds, n_calls = median_time(lambda: sum(range(100)), budget_s=0.01)
    >>> seconds > 0 and n_calls >= 5
    True
    """
    function()
    times = []
    deadline = time.perf_counter() + budget_s
    while len(times) < max_calls:
        start = time.perf_counter()
        function()
        end = time.perf_counter()
        times.append(end - start)
        if len(times) >= min_calls and end > deadline:
            break
    return float(np.median(times)), len(times)


def interleaved_median_times(
    functions, *, slice_s=0.05, min_rounds=5, max_rounds=1000, budget_s=2.0
):
    """Time functions in alternating blocks and return the median of each.

    Each round runs a block of calls of every function in turn, so a change in the
    machine's load during the measurement affects all of them alike. A block repeats
    its function for about ``slice_s`` seconds and leaves out its first call, whose
    caches were cooled by the other functions, so a fast function is timed as a
    service calling it repeatedly would see it.

    Parameters
    ----------
    functions : sequence of callable
        Each called with no arguments.
    slice_s : float, default=0.05
        Target duration of one block; a block has at least one call.
    min_rounds, max_rounds : int, default=5 and 1000
        Bounds on the number of rounds.
    budget_s : float, default=2.0
        Time after which no further round starts once ``min_rounds`` are done.

    Returns
    -------
    timings : list of (float, int)
        Per function, the median seconds per call and the number of timed calls.

    Examples
    --------
    >>> from benchmarks._common import interleaved_median_times
    >>> timings = interleaved_median_times(
    ...     [lambda: sum(range(10)), lambda: sum(range(1000))], budget_s=0.01
    ... )
    >>> timings[0][0] < timings[1][0]
    True
    """
    calls_per_block = []
    for function in functions:
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        calls_per_block.append(max(1, int(slice_s / max(elapsed, 1e-9))))
    times = [[] for _ in functions]
    deadline = time.perf_counter() + budget_s
    for round_index in range(max_rounds):
        for function, n_calls, recorded in zip(
            functions, calls_per_block, times, strict=True
        ):
            block = []
            for _ in range(n_calls + (1 if n_calls > 1 else 0)):
                start = time.perf_counter()
                function()
                block.append(time.perf_counter() - start)
            recorded.extend(block[1:] if n_calls > 1 else block)
        if round_index + 1 >= min_rounds and time.perf_counter() > deadline:
            break
    return [(float(np.median(recorded)), len(recorded)) for recorded in times]


@contextlib.contextmanager
def single_thread():
    """Limit numpy's BLAS, OpenMP and torch to one thread inside the block.

    Examples
    --------
    >>> import torch
    >>> from benchmarks._common import single_thread
    >>> with single_thread():
    ...     torch.get_num_threads()
    1
    """
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(previous)


def _status_field_bytes(name):
    with open(_STATUS, encoding="ascii") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{_STATUS} has no {name} field.")


def peak_memory_method():
    """Name how :class:`PeakMemory` measures on this platform.

    Returns
    -------
    method : str
        ``"VmHWM"`` where the kernel's peak resident set size can be reset per step
        (Linux), else ``"ru_maxrss"``, the peak of the whole process so far.

    Examples
    --------
    >>> from benchmarks._common import peak_memory_method
    >>> peak_memory_method() in ("VmHWM", "ru_maxrss")
    True
    """
    try:
        _CLEAR_REFS.write_text("5")
        _status_field_bytes("VmHWM")
    except OSError:
        return "ru_maxrss"
    return "VmHWM"


class PeakMemory:
    """Measure how far the resident set size rises above its level at the start.

    Use as a context manager around one step. Resident memory counts every
    allocation of the process: numpy's, torch's and the C libraries' alike, which
    ``tracemalloc`` would miss for torch. On entry, garbage is collected and glibc's
    ``malloc_trim`` returns free heap pages, so the step cannot reuse memory that
    earlier steps freed without it showing. With the ``"VmHWM"`` method the kernel's
    peak is reset at the start, so each step is measured on its own. With
    ``"ru_maxrss"`` the peak is the process's lifetime peak, so only the first step
    of a fresh process is measured correctly.

    Attributes
    ----------
    method : str
        See :func:`peak_memory_method`.
    start_bytes : int
        Resident set size when the block started.
    peak_bytes : int
        Peak resident set size during the block, minus ``start_bytes``.

    Examples
    --------
    >>> import numpy as np
    >>> from benchmarks._common import PeakMemory
    >>> with PeakMemory() as memory:
    ...     block = np.ones(10_000_000)
    >>> bool(memory.peak_bytes >= 0.9 * block.nbytes)
    True
    """

    def __enter__(self):
        _release_free_memory()
        self.method = peak_memory_method()
        if self.method == "VmHWM":
            self.start_bytes = _status_field_bytes("VmRSS")
        else:
            self.start_bytes = _max_rss_bytes()
        return self

    def __exit__(self, *exc_info):
        if self.method == "VmHWM":
            peak = _status_field_bytes("VmHWM")
        else:
            peak = _max_rss_bytes()
        self.peak_bytes = max(peak - self.start_bytes, 0)
        return False


def _release_free_memory():
    """Collect garbage and return the C heap's free pages to the kernel.

    Without this, memory that earlier steps freed stays in the process and the next
    step can reuse it without its resident set size rising, which would hide that
    step's allocations.
    """
    gc.collect()
    library = ctypes.util.find_library("c")
    if library is None:
        return
    try:
        trim = ctypes.CDLL(library).malloc_trim
    except (OSError, AttributeError):
        # Not glibc (for example macOS): nothing to release.
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


def _max_rss_bytes():
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
