"""Reuse of fitted teachers across fits on the same data with the same parameters.

A search over the student's parameters, such as ``GridSearchCV`` over ``temperature``
and ``alpha``, clones the estimator for every candidate and fold, and every clone
would fit an identical teacher again. The cache stores each fitted teacher under a
hash of everything its fit depends on, so that the search fits one teacher per fold.

The key is :func:`joblib.hash` of the unfitted teacher (its class and every parameter,
nested estimators included, and the scikit-learn version that pickling records), the
training rows, the targets and the sample weights. The cache lives outside the
estimators, so clones share it. Only fits that are reproducible take part (see
:func:`is_cacheable`): a teacher with a ``random_state`` left at None would give a
different fit each time, and reusing one of them would hide that.

Two stores exist:

* the in-process store (``teacher_cache=True``): a least-recently-used dict of pickled
  teachers, bounded by :func:`set_teacher_cache_max_bytes`. Every hit unpickles a
  fresh copy, so no two estimators share a teacher object and nothing a caller does to
  one changes the cache. Each process has its own, so process-based workers of
  ``joblib`` (``n_jobs > 1``) do not share it.
* a :class:`joblib.Memory` on disk (``teacher_cache=<path or Memory>``), shared by
  every process that can read the folder, and kept between sessions.
"""

import io
import numbers
import os
import pickle
import threading
from collections import OrderedDict, namedtuple

import joblib

DEFAULT_MAX_BYTES = 1 << 30

TeacherCacheInfo = namedtuple(
    "TeacherCacheInfo", ["hits", "misses", "n_entries", "n_bytes", "max_bytes"]
)


class _TooLarge(Exception):
    pass


class _BoundedBuffer(io.BytesIO):
    """A bytes buffer that raises once more than ``max_bytes`` are written to it.

    Pickling into it stops as soon as the pickle outgrows the cache, so a teacher too
    large to store costs neither the time nor the memory of a whole pickle.
    """

    def __init__(self, max_bytes):
        super().__init__()
        self._max_bytes = max_bytes

    def write(self, data):
        if self.tell() + memoryview(data).nbytes > self._max_bytes:
            raise _TooLarge
        return super().write(data)


class _InProcessStore:
    """A thread-safe LRU dict of pickled teachers, bounded by their total size."""

    def __init__(self, max_bytes):
        self._entries = OrderedDict()
        self._lock = threading.Lock()
        self.max_bytes = max_bytes
        self.n_bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self._lock:
            blob = self._entries.get(key)
            if blob is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return pickle.loads(blob)

    def put(self, key, teacher):
        buffer = _BoundedBuffer(self.max_bytes)
        try:
            pickle.dump(teacher, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        except _TooLarge:
            return
        blob = buffer.getvalue()
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.n_bytes -= len(previous)
            self._entries[key] = blob
            self.n_bytes += len(blob)
            self._evict()

    def _evict(self):
        while self.n_bytes > self.max_bytes:
            _, blob = self._entries.popitem(last=False)
            self.n_bytes -= len(blob)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.n_bytes = 0
            self.hits = 0
            self.misses = 0

    def info(self):
        with self._lock:
            return TeacherCacheInfo(
                self.hits, self.misses, len(self._entries), self.n_bytes, self.max_bytes
            )


_STORE = _InProcessStore(DEFAULT_MAX_BYTES)


def teacher_cache_info():
    """Report the use of the in-process teacher cache since the last clear.

    Returns
    -------
    info : TeacherCacheInfo
        Named tuple ``(hits, misses, n_entries, n_bytes, max_bytes)``: fits served
        from the cache, fits that ran and were offered to it, stored teachers, their
        total pickled size in bytes, and the size limit. Fits that bypass the cache
        (prefit teachers, ``teacher_cache=False``, teachers whose fit is not
        reproducible, a disk cache) are not counted.

    See Also
    --------
    clear_teacher_cache : Empties the cache and resets the counts.

    Examples
    --------
    >>> from skdistill import clear_teacher_cache, teacher_cache_info
    >>> clear_teacher_cache()
    >>> teacher_cache_info().hits
    0
    """
    return _STORE.info()


def clear_teacher_cache():
    """Empty the in-process teacher cache and reset its hit and miss counts.

    The cache keeps up to :func:`set_teacher_cache_max_bytes` of pickled teachers for
    the life of the process; clearing it gives that memory back.

    Examples
    --------
    >>> from skdistill import clear_teacher_cache, teacher_cache_info
    >>> clear_teacher_cache()
    >>> teacher_cache_info().n_entries
    0
    """
    _STORE.clear()


def set_teacher_cache_max_bytes(max_bytes):
    """Set the size limit of the in-process teacher cache.

    Parameters
    ----------
    max_bytes : int
        Largest total size, in bytes, of the pickled teachers kept; at least 0. The
        least recently used teachers are dropped to stay below it, and a teacher larger
        than the limit is not stored. The default is 1 GiB. A search fits one teacher
        per fold only while the teachers of all folds fit below the limit: with a
        smaller limit, the least recently used fold is always the next one needed, and
        every fit misses.

    Returns
    -------
    previous : int
        The limit before the call.

    Examples
    --------
    >>> from skdistill import set_teacher_cache_max_bytes
    >>> previous = set_teacher_cache_max_bytes(4 * 2**30)
    >>> set_teacher_cache_max_bytes(previous)
    4294967296
    """
    if (
        isinstance(max_bytes, bool)
        or not isinstance(max_bytes, numbers.Integral)
        or max_bytes < 0
    ):
        raise ValueError(
            f"max_bytes must be an integer >= 0, got {max_bytes!r}. Pass the size "
            "limit in bytes, for example 2 * 2**30 for 2 GiB."
        )
    with _STORE._lock:
        previous = _STORE.max_bytes
        _STORE.max_bytes = int(max_bytes)
        _STORE._evict()
    return previous


def _defined_in_main(value):
    owner = value if isinstance(value, type) or callable(value) else type(value)
    return getattr(owner, "__module__", None) == "__main__"


def is_cacheable(teacher):
    """Return whether a fit of the unfitted ``teacher`` may be stored and reused.

    Two conditions make a reused fit equal to a new one:

    * The fit is reproducible: no ``random_state`` parameter, nested ones included,
      is None. An integer or a :class:`numpy.random.RandomState` both qualify,
      because ``clone`` copies a ``RandomState`` and so every clone starts from the
      same state.
    * No class or function of the teacher is defined in ``__main__``. The key
      records classes and functions by name only, and a script or notebook can
      redefine a name with new code between two fits.
    """
    params = teacher.get_params(deep=True)
    for name, value in params.items():
        if value is None and (
            name == "random_state" or name.endswith("__random_state")
        ):
            return False
    return not any(_defined_in_main(value) for value in (teacher, *params.values()))


def _fit(teacher, X, y, sample_weight):
    if sample_weight is None:
        return teacher.fit(X, y)
    return teacher.fit(X, y, sample_weight=sample_weight)


def _cache_key(teacher, X, y, sample_weight):
    """Return the hash of everything the fit depends on, or None if it cannot be hashed.

    A parameter that cannot be pickled, such as a lambda, makes the fit uncacheable
    instead of failing it.
    """
    try:
        return joblib.hash((teacher, X, y, sample_weight))
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def _memory(cache):
    # NOTE: joblib 1.6 writes a function's code file into a cache folder only the
    # first time a process checks that function, so a process that used another
    # folder first leaves none behind. The next process to find the folder without
    # the file writes it and refits its first teacher instead of loading it.
    if isinstance(cache, joblib.Memory):
        return cache
    return joblib.Memory(cache, verbose=0)


def fit_teacher(teacher, X, y, sample_weight, cache):
    """Fit an unfitted ``teacher``, or take an identical fitted one from ``cache``.

    Parameters
    ----------
    teacher : estimator
        A fresh, unfitted clone; it is fitted in place on a cache miss.
    X, y, sample_weight
        The arguments of ``teacher.fit``; ``sample_weight`` may be None.
    cache : bool, str, os.PathLike or joblib.Memory
        True uses the in-process store, False fits without caching, and a path or a
        :class:`joblib.Memory` uses that disk cache.

    Returns
    -------
    teacher : estimator
        The fitted teacher: ``teacher`` itself on a miss, an equal copy on a hit.
    """
    if not isinstance(cache, (str, os.PathLike, joblib.Memory)):
        # The "boolean" constraint also admits numpy booleans, which "is" misses.
        cache = bool(cache)
    if cache is False or not is_cacheable(teacher):
        return _fit(teacher, X, y, sample_weight)
    key = _cache_key(teacher, X, y, sample_weight)
    if key is None:
        return _fit(teacher, X, y, sample_weight)
    if cache is not True:
        return _memory(cache).cache(_fit)(teacher, X, y, sample_weight)

    cached = _STORE.get(key)
    if cached is not None:
        return cached
    teacher = _fit(teacher, X, y, sample_weight)
    _STORE.put(key, teacher)
    return teacher
