"""Checks of the documentation: docstrings, and the built site in headless Chromium.

The site checks need the built HTML site and a Chromium binary, and skip without
them. Build the site with ``python -m sphinx -W -b html docs docs/_build/html`` and
install Debian's ``chromium`` package to run them. CI sets
``SKDISTILL_REQUIRE_DOCS_TEST=1``, which turns those skips into failures.

Chromium runs headless against a local HTTP server on 127.0.0.1, with every other host
name mapped to "not found", so no request leaves the machine. The server's log shows
every file a page requested and any that was missing; headless Chromium does not
report the loads it could not resolve, so a separate check reads the built pages for
resources on other hosts. Screenshots go to ``docs/_build/screenshots``.
"""

import functools
import http.server
import importlib
import inspect
import os
import pkgutil
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

import skdistill

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("SKDISTILL_DOCS_HTML", ROOT / "docs" / "_build" / "html"))
SCREENSHOTS = SITE.parent / "screenshots"
REQUIRED = os.environ.get("SKDISTILL_REQUIRE_DOCS_TEST") == "1"
API_PAGE = "api/generated/skdistill.DistilledClassifier.html"
WINDOW = (1280, 1000)
CHROMIUM_TIMEOUT_S = 120

# Modules that the API reference leaves out, as docs/conf.py does.
EXCLUDED_MODULES = {"skdistill.cli", "skdistill.__main__"}


def _find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _skip_or_fail(reason):
    if REQUIRED:
        pytest.fail(f"{reason}, but SKDISTILL_REQUIRE_DOCS_TEST=1 requires the check.")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    path = _find_chromium()
    if path is None:
        _skip_or_fail("no chromium binary on PATH")
    return path


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").is_file():
        _skip_or_fail(f"the built site is missing: no {SITE / 'index.html'}")
    return SITE


class _LoggingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and records each request's path and status code."""

    def log_request(self, code="-", size="-"):
        self.server.requests.append((self.path, int(code)))

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_LoggingHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _run_chromium(chromium, tmp_path, url, *mode):
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # Every host but the local server resolves to nothing, so no request leaves
        # the machine.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--hide-scrollbars",
        # Lets the page's scripts (the theme, MathJax) finish before the capture.
        "--virtual-time-budget=10000",
        *mode,
        url,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S
    )
    return result


def _load_page(chromium, server, tmp_path, page):
    """Screenshot ``page`` and dump its DOM; return the DOM, requests and the PNG."""
    url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = SCREENSHOTS / (page.replace("/", "_").removesuffix(".html") + ".png")
    png.unlink(missing_ok=True)
    server.requests.clear()
    shot = _run_chromium(chromium, tmp_path, url, f"--screenshot={png}")
    assert shot.returncode == 0, shot.stderr[-2000:]
    requests = list(server.requests)
    dom = _run_chromium(chromium, tmp_path, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    return dom.stdout, requests, png


def _assert_png_shows_a_page(png):
    from PIL import Image

    assert png.is_file(), f"Chromium wrote no screenshot to {png}"
    with Image.open(png) as image:
        assert image.size == WINDOW
        colors = image.convert("RGB").getcolors(maxcolors=1_000_000)
    # A blank or unstyled page has a handful of colours; a rendered theme with text,
    # logo and navigation has hundreds.
    assert colors is None or len(colors) > 100


@pytest.fixture(scope="module")
def index_page(chromium, server, tmp_path_factory):
    return _load_page(chromium, server, tmp_path_factory.mktemp("index"), "index.html")


@pytest.fixture(scope="module")
def api_page(chromium, server, tmp_path_factory):
    return _load_page(chromium, server, tmp_path_factory.mktemp("api"), API_PAGE)


def test_docs_index_screenshot(index_page):
    _assert_png_shows_a_page(index_page[2])


def test_docs_index_navigation_renders(index_page):
    dom = index_page[0]
    assert 'class="bd-header' in dom
    for target in (
        "getting-started.html",
        "user-guide.html",
        "examples/index.html",
        "api/index.html",
    ):
        assert f'href="{target}"' in dom, f"the navigation has no link to {target}"
    # The theme's script ran: it marks the document with the colour mode it chose.
    assert re.search(r'<html[^>]*data-mode="light"', dom)


def test_docs_index_loads_no_missing_resources(index_page):
    _, requests, _ = index_page
    # The page, its style sheets, scripts, fonts and images, each requested once.
    assert len(requests) > 5, requests
    failed = [(path, status) for path, status in requests if status >= 400]
    assert failed == []


def test_docs_api_screenshot(api_page):
    _assert_png_shows_a_page(api_page[2])


def test_docs_api_page_renders(api_page):
    dom = api_page[0]
    assert 'id="skdistill.DistilledClassifier"' in dom
    assert 'id="skdistill.DistilledClassifier.fit"' in dom
    assert ">Parameters<" in dom
    assert ">Examples<" in dom
    assert 'class="bd-sidebar-primary' in dom
    # MathJax, served from the site itself, typeset the loss formula of the Notes.
    assert "<mjx-container" in dom


def test_docs_api_loads_no_missing_resources(api_page):
    _, requests, _ = api_page
    assert any("mathjax" in path for path, _ in requests)
    failed = [(path, status) for path, status in requests if status >= 400]
    assert failed == []


def test_docs_pages_reference_no_other_host(site):
    # Links to other sites are fine; resources that a page loads are not.
    resource = re.compile(
        r"<(?:script|img|iframe|source)\b[^>]*\bsrc=\"((?:https?:)?//[^\"]+)\""
        r"|<link\b[^>]*\bhref=\"((?:https?:)?//[^\"]+)\"[^>]*>"
    )
    offenders = {}
    for page in site.rglob("*.html"):
        for match in resource.finditer(page.read_text(encoding="utf-8")):
            tag = match.group(0)
            if match.group(2) and not re.search(r'rel="(stylesheet|preload)', tag):
                continue
            offenders.setdefault(str(page.relative_to(site)), []).append(
                match.group(1) or match.group(2)
            )
    assert offenders == {}


def test_docs_every_notebook_rendered_with_plots(site):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        page = site / "examples" / f"{notebook.stem}.html"
        assert page.is_file(), f"{notebook.name} has no page in the site"
        html = page.read_text(encoding="utf-8")
        assert "<img" in html, f"the page of {notebook.name} shows no plot"


def _public_objects():
    """Yield ``(qualified name, object)`` for every class and function in the API."""
    modules = [skdistill]
    for info in pkgutil.iter_modules(skdistill.__path__, "skdistill."):
        short = info.name.rsplit(".", 1)[1]
        if not short.startswith("_") and info.name not in EXCLUDED_MODULES:
            modules.append(importlib.import_module(info.name))
    for module in modules:
        names = getattr(module, "__all__", None)
        if names is None:
            names = [
                name
                for name, value in vars(module).items()
                if not name.startswith("_")
                and getattr(value, "__module__", None) == module.__name__
            ]
        for name in names:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                yield f"{module.__name__}.{name}", value


def test_public_docstrings_have_runnable_examples():
    missing = [
        name
        for name, value in _public_objects()
        if not re.search(r"\n\s*Examples\n\s*-+\n\s*>>> ", inspect.getdoc(value) or "")
    ]
    assert missing == []
