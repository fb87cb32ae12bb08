"""The Simplified Chinese catalogue: complete, compiled, and what the UI speaks by default.

English is the source language (msgids in code and templates); locale/zh_Hans holds the only
catalogue. When a test here fails, run scripts/i18n, translate what it reports, run it again.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# What the copy leaves out: what scripts/i18n passes as --ignore, plus what makemessages never needs to read.
SKIPPED_TOP = {".venv", "var", ".git", "node_modules", "media", "locale", "bench/out", "static/vendor", "test-results"}
SKIPPED_ANYWHERE = {"__pycache__", ".pytest_cache", ".ruff_cache", "node_modules", ".env"}
FIX = "run scripts/i18n, translate the new msgids in locale/zh_Hans/LC_MESSAGES/django.po, then run it again"


def _gettext_tools() -> None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msgfmt") if shutil.which(tool) is None]
    if not missing:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"GNU gettext is required in CI but {', '.join(missing)} is missing (apt-get install gettext)")
    pytest.skip(f"GNU gettext not installed ({', '.join(missing)} missing); apt-get install gettext to run this")


def _parse_po(path: Path) -> dict[tuple[str | None, str], dict]:
    """(msgctxt, msgid) -> {"msgstr": [...], "fuzzy": bool}; obsolete (#~) entries are left out."""
    entries: dict[tuple[str | None, str], dict] = {}
    entry: dict = {}
    field: str | None = None

    def flush() -> None:
        nonlocal entry, field
        if "msgid" in entry and entry["msgid"] != "":
            strs = [v for k, v in sorted(entry.items()) if k.startswith("msgstr")]
            entries[(entry.get("msgctxt"), entry["msgid"])] = {"msgstr": strs, "fuzzy": entry.get("fuzzy", False)}
        entry, field = {}, None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            if "msgid" in entry:
                flush()
            entry["fuzzy"] = "fuzzy" in (flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            if "msgid" in entry:
                flush()
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            match = re.fullmatch(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")", line)
            assert match, f"{path}: cannot read the line {line!r}"
            field = match.group(1)
            if field in ("msgctxt", "msgid") and any(key.startswith("msgstr") for key in entry):
                flush()
                field = match.group(1)
            entry[field] = ast.literal_eval(match.group(2))
    flush()
    return entries


@pytest.fixture(scope="module")
def committed() -> dict:
    assert PO.exists(), f"{PO} is missing; {FIX}"
    return _parse_po(PO)


def test_every_msgid_in_the_source_is_translated(tmp_path, committed):
    _gettext_tools()
    copy = tmp_path / "src"

    def skipped(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).relative_to(ROOT)
        return {
            name
            for name in names
            if name in SKIPPED_ANYWHERE or name.endswith(".pyc") or (relative / name).as_posix() in SKIPPED_TOP
        }

    shutil.copytree(ROOT, copy, ignore=skipped)
    (copy / "locale").mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "--no-obsolete",
         "--ignore=.venv", "--ignore=var", "--ignore=static/vendor", "--ignore=node_modules"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    extracted = _parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert len(extracted) > 100, "makemessages extracted suspiciously few msgids"

    missing = sorted(key for key in extracted if key not in committed)
    untranslated = sorted(key for key in extracted if key in committed and not all(committed[key]["msgstr"]))
    fuzzy = sorted(key for key in extracted if key in committed and committed[key]["fuzzy"])

    def listing(keys: list) -> str:
        return "".join(f"\n  {msgid!r}" + (f" (context {ctx!r})" if ctx else "") for ctx, msgid in keys)

    problems = ""
    if missing:
        problems += f"\nNot in django.po ({len(missing)}):{listing(missing)}"
    if untranslated:
        problems += f"\nUntranslated ({len(untranslated)}):{listing(untranslated)}"
    if fuzzy:
        problems += f"\nFuzzy, to check and unflag ({len(fuzzy)}):{listing(fuzzy)}"
    assert not problems, f"The zh_Hans catalogue is behind the source; {FIX}.{problems}"


def test_the_catalogue_has_chinese_plural_forms(committed):
    header = PO.read_text(encoding="utf-8")
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header
    plurals = [entry for entry in committed.values() if len(entry["msgstr"]) > 1]
    assert not plurals, "Chinese has one plural form: only msgstr[0]"


def test_the_committed_mo_is_compiled_from_the_po(tmp_path):
    _gettext_tools()
    assert MO.exists(), f"{MO} is missing; run scripts/i18n"
    fresh = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(fresh), str(PO)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"msgfmt refused {PO}:\n{result.stderr}"
    with MO.open("rb") as committed_mo, fresh.open("rb") as fresh_mo:
        committed_catalog = gettext.GNUTranslations(committed_mo)._catalog
        fresh_catalog = gettext.GNUTranslations(fresh_mo)._catalog
    stale = sorted(str(k) for k in committed_catalog.keys() ^ fresh_catalog.keys())
    changed = sorted(
        str(k) for k in committed_catalog.keys() & fresh_catalog.keys() if committed_catalog[k] != fresh_catalog[k]
    )
    assert committed_catalog == fresh_catalog, (
        f"{MO} is stale: run scripts/i18n (compilemessages).\nAdded or removed: {stale[:20]}\nChanged: {changed[:20]}"
    )


@pytest.mark.django_db
def test_the_login_page_speaks_chinese_by_default_and_english_on_request(client):
    chinese = client.get(reverse("login"))
    assert chinese.status_code == 200
    page = chinese.content.decode()
    assert "登录" in page
    assert 'lang="zh-hans"' in page
    assert "Log in" not in page

    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    page = english.content.decode()
    assert "Log in" in page
    assert "登录" not in page


def test_the_resident_petition_form_is_chinese_by_default(client, tree):
    page = client.get(reverse("appeals:new")).content.decode()
    for text in ("提交诉求", "联系电话", "提交"):
        assert text in page
    assert "What is the problem?" not in page


def test_domain_errors_from_services_are_chinese():
    from appeals.lifecycle import InvalidTransition, check_move

    with translation.override("zh-hans"), pytest.raises(InvalidTransition) as refused:
        check_move("resolved", "accept")
    assert refused.value.message.startswith("状态为“已办结”的诉求不能签收。当前可执行：")
    assert "评价" in refused.value.message

    with translation.override("en"), pytest.raises(InvalidTransition) as refused:
        check_move("resolved", "accept")
    assert refused.value.message.startswith("Cannot accept a petition that is “Resolved”.")
