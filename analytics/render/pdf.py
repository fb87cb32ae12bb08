"""The report as an A4 PDF: headless Chromium prints the report's own page.

Why Chromium and not WeasyPrint: the charts are ECharts and the map is Leaflet, both drawn by
JavaScript, which WeasyPrint does not run. Printing the page itself keeps one template, one
stylesheet (its `@media print` part) and one set of charts for the screen and the paper, and
Chromium's PDFs embed the CJK font (fonts-noto-cjk) with its text extractable.

No network: the HTML is rendered here and handed to the browser under a made-up origin; static
files are answered from our own static storage and every other request is aborted. Playwright runs
in a worker thread so that a caller inside an asyncio loop (a test driving a browser itself) does
not trip the sync API's guard.
"""

from __future__ import annotations

import html
import mimetypes
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string
from django.utils import translation

ORIGIN = "http://report.invalid"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
# The printable width of A4 with the page's margins (css/report.css @page), in CSS pixels: the
# charts are laid out at the width they are printed at.
A4_VIEWPORT = {"width": 708, "height": 1000}
READY = "document.documentElement.dataset.chartsReady === '1' && document.documentElement.dataset.mapReady === '1'"
TIMEOUT_MS = 30_000
PDF_LANGUAGE = "zh-hans"  # the stored file is the Chinese report, whoever downloads it first


class PdfError(RuntimeError):
    pass


def _static_path(url_path: str) -> Path | None:
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    if not url_path.startswith(prefix):
        return None
    name = unquote(url_path[len(prefix) :])
    if ".." in Path(name).parts:
        return None
    try:
        if staticfiles_storage.exists(name):
            return Path(staticfiles_storage.path(name))
    except NotImplementedError:  # a remote storage: fall back to the finders
        pass
    found = finders.find(name)
    return Path(found) if found else None


def _footer(title: str) -> str:
    # Chromium's header/footer templates take inline styles; they are not part of any served page.
    return (
        '<div style="width:100%;font-size:7pt;color:#888;padding:0 12mm;display:flex;'
        "justify-content:space-between;font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif\">"
        f'<span>{html.escape(title)}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
    )


def html_to_pdf(document: str, *, title: str = "") -> bytes:
    """Print an HTML document (with /static/ references) to A4 PDF bytes in headless Chromium."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print, document, title).result()


def _print(document: str, title: str) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    def answer(route):
        url = urlsplit(route.request.url)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            return route.abort()
        if url.path == "/":
            return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=document)
        path = _static_path(url.path)
        if path is None or not path.is_file():
            problems.append(f"missing {url.path}")
            return route.fulfill(status=404, body="")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return route.fulfill(status=200, content_type=content_type, body=path.read_bytes())

    problems: list[str] = []  # script errors and missing files, named in the error if printing fails
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=settings.CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page(viewport=A4_VIEWPORT, locale="zh-CN")
                page.set_default_timeout(TIMEOUT_MS)
                page.emulate_media(media="print")
                page.on("pageerror", lambda error: problems.append(f"{error} {error.stack}"[:600]))
                page.route("**/*", answer)
                page.goto(ORIGIN + "/", wait_until="load")
                page.wait_for_function(READY)
                return page.pdf(
                    format="A4",
                    print_background=True,
                    prefer_css_page_size=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=_footer(title),
                )
            finally:
                browser.close()
    except PlaywrightError as error:
        raise PdfError(f"Chromium could not print the report: {error} {problems}") from error


def report_pdf(report) -> bytes:
    """The A4 PDF of a report: its print page (the web page's template, print media) through Chromium."""
    from analytics.render.context import report_context

    with translation.override(PDF_LANGUAGE):
        context = report_context(report, print_mode=True)
        document = render_to_string("analytics/report_print.html", context)
        title = f"{context['area_name']} {context['month_label']}"
    return html_to_pdf(document, title=title)
