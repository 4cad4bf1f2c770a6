"""Progress output of long steps, controlled by the estimators' ``verbose`` parameter.

``verbose=0`` writes nothing. ``verbose=1`` shows progress bars on standard error.
``verbose=2`` also prints one line per step to standard output, as scikit-learn's
estimators do.
"""

import contextlib
import sys
import time

from tqdm import tqdm as _plain_tqdm


def progress_bar(total, *, desc, unit, verbose, min_total=1, leave=False):
    """Return a tqdm bar on standard error, or None when no bar should show.

    A bar shows when ``verbose >= 1`` and ``total >= min_total``, so callers can keep
    work of a single step free of a bar that would open and close at once.
    """
    if verbose < 1 or total < min_total:
        return None
    # Imported here because tqdm.auto warns on import in a notebook without
    # ipywidgets, which only a user who asked for bars should see.
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=leave)


def progress(iterable, *, desc, unit, verbose, min_total=2):
    """Yield from a sized ``iterable`` under a bar that follows :func:`progress_bar`."""
    bar = progress_bar(
        len(iterable), desc=desc, unit=unit, verbose=verbose, min_total=min_total
    )
    if bar is None:
        yield from iterable
        return
    with bar:
        for item in iterable:
            yield item
            bar.update(1)


def write_line(line):
    """Print ``line`` to standard output without tearing an open progress bar."""
    # The notebook bars of tqdm.auto subclass the plain tqdm class and share its
    # registry of open bars, so this clears and redraws those too.
    _plain_tqdm.write(line, file=sys.stdout)
    sys.stdout.flush()


@contextlib.contextmanager
def timed_step(description, verbose):
    """Print how long the block took, as ``"<description> in 1.23 s"``, at verbose 2."""
    start = time.perf_counter()
    yield
    if verbose >= 2:
        write_line(f"{description} in {time.perf_counter() - start:.2f} s")
