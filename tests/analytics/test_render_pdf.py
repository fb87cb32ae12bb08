"""The report's A4 PDF printed by Chromium: the Chinese headings come back out as text.

Missing CJK fonts print empty boxes (tofu) whose text is not the headings, so this fails then.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from analytics.render.pdf import report_pdf
from tests.analytics.render_fixtures import make_report

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _chromium():
    if not Path(settings.CHROMIUM_PATH).exists():
        pytest.skip("Chromium is missing: scripts/test installs it")


def _text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    # Chromium maps some CJK glyphs to their Kangxi radical forms (月 as ⽉): NFKC folds those back
    # (not the radicals supplement: 风 comes out as ⻛, so the headings checked avoid it).
    text = "".join(page.extract_text() for page in reader.pages)
    # Spaces come and go around digits and between table cells: compare without them.
    return reader, unicodedata.normalize("NFKC", text).replace(" ", "")


def test_the_pdf_is_a4_with_the_chinese_headings_narrative_and_charts(tree):
    pdf = report_pdf(make_report(tree["D"]))
    reader, text = _text(pdf)
    assert pdf.startswith(b"%PDF")
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    for heading in ("诉求办理月度分析报告", "概览", "建议", "趋势", "响应率", "热点", "注释"):
        assert heading in text, heading
    assert "本月共受理诉求1,164件" in text  # the narrative, not only the headings
    assert "12月" in text  # the trend chart's axis: the charts were drawn before printing
