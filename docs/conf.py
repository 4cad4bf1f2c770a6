"""Sphinx configuration of the skdistill documentation.

Build the site from the repository root with warnings as errors:

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Three parts of the site are assembled when this file is loaded, so that pages and
public objects added to the library appear without editing the page lists here:

* ``docs/api/generated/`` receives one page per public class and function, found in
  the ``__all__`` of the package and of its public modules.
* ``docs/examples/`` receives copies of the executed notebooks in ``notebooks/``.
* The toctrees of the user guide and of the how-to guides list the topic pages under
  ``docs/`` that exist. A page under ``docs/`` that no toctree names joins the user
  guide, so no page is left out of the navigation.
"""

import importlib
import inspect
import pkgutil
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import skdistill  # noqa: E402

project = "skdistill"
author = "skdistill developers"
copyright = "skdistill developers"
release = skdistill.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "sphinx_design",
    # Serves MathJax from the built site, so pages render formulas without network
    # access and load nothing from another host.
    "sphinx-mathjax-offline",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# --- MyST and notebooks -------------------------------------------------------------

myst_enable_extensions = ["amsmath", "dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# The notebooks are committed with their outputs and executed by the notebook tests
# in CI, so the docs build renders the stored outputs and stays fast.
nb_execution_mode = "off"
nb_merge_streams = True

# --- API reference --------------------------------------------------------------------

autosummary_generate = False
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
# autodoc documents the methods on each class page, so numpydoc adds no table of them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# --- HTML -----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skdistill {release}"
html_static_path = ["_static"]
html_logo = "_static/logo.svg"
html_favicon = "_static/logo.svg"
html_css_files = ["skdistill.css"]
html_show_sourcelink = False
html_theme_options = {
    "logo": {"text": "skdistill"},
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}

# --- assembled pages ------------------------------------------------------------------

# Topic pages by the section whose toctree lists them, in reading order. A page that
# does not exist is left out, so a section shows whatever has been written.
PAGE_SECTIONS = {
    "user-guide": [
        "teachers",
        "regression",
        "transfer-data",
        "feature-distillation",
        "reliability",
    ],
    "how-to": ["grid-search", "saving", "export", "dask", "cli"],
    "top": ["benchmarks"],
}
# Pages that the hand-written toctrees already list.
LISTED_PAGES = {"index", "getting-started", "user-guide"}

# Modules whose objects are documented elsewhere or are not part of the API.
API_EXCLUDED_MODULES = {"skdistill.cli", "skdistill.__main__"}


def _topic_pages():
    """Return the existing pages of each section; unlisted root pages join the guide."""
    present = {path.stem for path in DOCS.glob("*.md")}
    sections = {
        name: [page for page in pages if page in present]
        for name, pages in PAGE_SECTIONS.items()
    }
    known = LISTED_PAGES.union(*PAGE_SECTIONS.values())
    sections["user-guide"] += sorted(present - known)
    return sections


def _fill_toctrees(app, docname, source):
    """Replace the ``@<section>-pages@`` line of a toctree by that section's pages."""
    for section, pages in _topic_pages().items():
        marker = f"@{section}-pages@"
        if marker in source[0]:
            source[0] = source[0].replace(
                marker, "\n".join(f"/{page}" for page in pages)
            )


def public_api():
    """Return ``{module name: [public object names]}`` in the order of the listing.

    The package's own ``__all__`` comes first. Each public submodule follows with
    the names of its ``__all__``, or with the classes and functions it defines when
    it has none. A name that the package re-exports is listed only under the
    package.
    """
    listing = {"skdistill": _exported_names(skdistill)}
    documented = {id(getattr(skdistill, name)) for name in listing["skdistill"]}
    for info in pkgutil.iter_modules(skdistill.__path__, "skdistill."):
        short = info.name.rsplit(".", 1)[1]
        if short.startswith("_") or info.name in API_EXCLUDED_MODULES:
            continue
        module = importlib.import_module(info.name)
        names = [
            name
            for name in _exported_names(module)
            if id(getattr(module, name)) not in documented
        ]
        if names:
            listing[info.name] = names
    return listing


def _exported_names(module):
    if hasattr(module, "__all__"):
        names = module.__all__
    else:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__
        ]
    return [
        name
        for name in names
        if inspect.isclass(getattr(module, name))
        or inspect.isfunction(getattr(module, name))
    ]


CLASS_PAGE = """{title}
{underline}

.. currentmodule:: {module}

.. autoclass:: {name}
   :members:
   :inherited-members: {excluded_bases}
   :exclude-members: {excluded_members}
"""

# scikit-learn's own methods (get_params, set_params, score, the set_*_request methods
# of metadata routing) are the same on every estimator, and scikit-learn documents
# them. Their docstrings also refer to labels that exist only on scikit-learn's site.
API_EXCLUDED_BASES = "BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin"
API_EXCLUDED_MEMBERS = (
    "set_fit_request, set_score_request, set_predict_request, "
    "set_predict_proba_request, set_transform_request, get_metadata_routing"
)

FUNCTION_PAGE = """{title}
{underline}

.. currentmodule:: {module}

.. autofunction:: {name}
"""


def _write_api_pages():
    """Write one page per public object and return the API listing as MyST Markdown."""
    generated = DOCS / "api" / "generated"
    shutil.rmtree(generated, ignore_errors=True)
    generated.mkdir(parents=True)
    sections = []
    for module_name, names in public_api().items():
        module = sys.modules[module_name]
        summary = (inspect.getdoc(module) or "").split("\n\n")[0]
        lines = [
            f"## `{module_name}`",
            "",
            summary,
            "",
            "```{eval-rst}",
            f".. currentmodule:: {module_name}",
            "",
            ".. autosummary::",
            "",
        ]
        for name in names:
            full_name = f"{module_name}.{name}"
            is_class = inspect.isclass(getattr(module, name))
            page = (CLASS_PAGE if is_class else FUNCTION_PAGE).format(
                title=full_name,
                underline="=" * len(full_name),
                module=module_name,
                name=name,
                excluded_bases=API_EXCLUDED_BASES,
                excluded_members=API_EXCLUDED_MEMBERS,
            )
            (generated / f"{full_name}.rst").write_text(page)
            lines.append(f"   {name}")
        lines.append("```")
        sections.append("\n".join(lines))
    toctree = "```{toctree}\n:hidden:\n:glob:\n\ngenerated/*\n```"
    return "\n\n".join(sections) + "\n\n" + toctree + "\n"


def _copy_notebooks():
    """Copy the executed notebooks into ``docs/examples`` for MyST-NB to render."""
    examples = DOCS / "examples"
    for old in examples.glob("*.ipynb"):
        old.unlink()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(notebook, examples / notebook.name)


API_LISTING = _write_api_pages()
_copy_notebooks()


def _fill_api_listing(app, docname, source):
    if docname == "api/index":
        source[0] = source[0].replace("@api-listing@", API_LISTING)


def setup(app):
    app.connect("source-read", _fill_toctrees)
    app.connect("source-read", _fill_api_listing)
