"""Every role's home page, and the district's and the street's panorama, on the demo district at a
desk (1366×768) and on a phone (360×740): rendered, headed, no sideways scrolling on the phone.

The screenshots go to test-results/screens/ (CI keeps the folder): <role>-home-<size>.png and
<role>-panorama-<size>.png, for people to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(__file__).resolve().parents[2] / "test-results" / "screens"
SIZES = {"1366x768": {"width": 1366, "height": 768}, "360x740": {"width": 360, "height": 740}}
PHONE_WIDTH = 360
ROLES = ["grid", "microgrid", "community", "secretary", "street", "district", "dept", "deptlead", "admin"]
PANORAMA_ROLES = ["district", "street"]


def look_at(page, path: str, shot: Path) -> list[str]:
    """Open `path`, save a full-page screenshot, and say what is wrong with the page."""
    errors: list[str] = []

    def on_page_error(error) -> None:
        errors.append(f"script error: {error}")

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(f"console error: {message.text}")

    page.on("pageerror", on_page_error)
    page.on("console", on_console)
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    page.remove_listener("pageerror", on_page_error)
    page.remove_listener("console", on_console)
    where = f"{shot.stem} ({page.url})"
    problems = [f"{where}: {error}" for error in errors]
    if response is None or response.status >= 400:
        problems.append(f"{where}: HTTP {response.status if response else 'no response'}")
    if page.locator("h1").count() == 0 or not page.locator("h1").first.inner_text().strip():
        problems.append(f"{where}: no heading")
    if page.viewport_size["width"] == PHONE_WIDTH:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > PHONE_WIDTH:
            problems.append(f"{where}: {scroll_width}px wide on a {PHONE_WIDTH}px phone")
    page.screenshot(path=str(shot), full_page=True)
    return problems


def test_every_home_page_and_the_panoramas_render_at_desk_and_phone_sizes(as_user):
    SCREENS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role in ROLES:
        pages = [("home", "/")]
        if role in PANORAMA_ROLES:
            pages.append(("panorama", "/panorama/"))
        page = as_user(role)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for name, path in pages:
                problems += look_at(page, path, SCREENS / f"{role}-{name}-{size}.png")
        page.context.close()
    assert not problems, "\n".join(problems)
