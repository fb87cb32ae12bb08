"""`manage.py boundaries export|import`: the round trip, and every reason a file is refused whole."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from grids.geojson import MAX_PROBLEMS, BoundaryError, boundaries_export, boundaries_import
from grids.models import Area, BoundaryChange, BoundaryRevision
from tests.factories import STEP, rectangle


@pytest.fixture(autouse=True)
def _english():
    # The assertions read the command's English messages; the UI default is Chinese.
    with translation.override("en"):
        yield


def snapshot() -> list[tuple]:
    """Everything an import could write, to prove a refused file wrote nothing."""
    rows = Area.objects.order_by("code").values_list(
        "code", "name", "level", "parent_id", "path", "boundary", "households", "updated_at"
    )
    revision = BoundaryRevision.objects.values_list("revision", flat=True).first()
    return [*rows, ("revision", revision), ("audit rows", BoundaryChange.objects.count())]


def feature(data: dict, code: str) -> dict:
    return next(f for f in data["features"] if f["properties"]["code"] == code)


def write(tmp_path: Path, data: dict | str) -> str:
    path = tmp_path / "boundaries.geojson"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def run_import(tmp_path: Path, data: dict | str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("boundaries", "import", write(tmp_path, data), stdout=out)
    return out.getvalue()


def refused(tmp_path: Path, data: dict | str) -> str:
    """Import a bad file; return the error text after checking nothing changed."""
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        run_import(tmp_path, data)
    assert snapshot() == before
    assert "Nothing was written." in str(caught.value)
    return str(caught.value)


# --- Export and round trip ---------------------------------------------------------------------


def test_it_exports_every_area_with_its_properties(tree, tmp_path):
    path = tmp_path / "out.geojson"
    call_command("boundaries", "export", str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == Area.objects.count() == 31
    props = feature(data, "DS0C0G0M1")["properties"]
    assert props == {
        "code": "DS0C0G0M1",
        "name": "第1街道1社区1网格2微网格",
        "level": "microgrid",
        "parent_code": "DS0C0G0",
        "households": 60,
    }
    assert feature(data, "D")["properties"]["parent_code"] is None
    assert feature(data, "DS1C0")["properties"]["level"] == "community"
    assert feature(data, "DS0C0G0M1")["geometry"] == tree["DS0C0G0M1"].boundary


def test_it_exports_one_subtree_with_root(tree, tmp_path):
    path = tmp_path / "out.geojson"
    call_command("boundaries", "export", str(path), "--root", "DS1")
    codes = {f["properties"]["code"] for f in json.loads(path.read_text())["features"]}
    assert len(codes) == 15
    assert all(code.startswith("DS1") for code in codes)


def test_it_rejects_an_unknown_root(tree, tmp_path):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("boundaries", "export", str(tmp_path / "x.geojson"), "--root", "NOPE")


def test_it_reimports_its_own_export_without_changes(tree, tmp_path):
    before = snapshot()
    output = run_import(tmp_path, boundaries_export())
    assert "0 created, 0 updated, 31 unchanged" in output
    assert snapshot() == before


def test_it_builds_a_new_tree_from_an_export(tree, tmp_path):
    # A copy of the district under other codes: districts have no parent, so it may lie anywhere.
    exported = boundaries_export()
    copied = json.loads(json.dumps(exported).replace('"D', '"E'))

    output = run_import(tmp_path, copied)

    assert "31 created, 0 updated, 0 unchanged" in output
    assert boundaries_export(root=Area.objects.get(code="E")) == copied
    created = Area.objects.get(code="ES1C1G1M1")
    assert created.path == "E/ES1/ES1C1/ES1C1G1/ES1C1G1M1/"
    assert created.parent.code == "ES1C1G1"
    assert created.households == 60


def test_it_updates_changed_areas_and_bumps_the_revision(tree, tmp_path):
    revision = BoundaryRevision.objects.get().revision
    data = boundaries_export()
    # Move the shared edge of two micro-grids of one grid: still a valid partition.
    edge = 36 + 1.5 * STEP
    feature(data, "DS0C0G0M0")["geometry"] = rectangle(120, 36, 120 + STEP, edge)
    feature(data, "DS0C0G0M1")["geometry"] = rectangle(120, edge, 120 + STEP, 36 + 2 * STEP)
    feature(data, "DS1C1G1M1")["properties"].update(name="海岸微网格", households=88)

    output = run_import(tmp_path, data)

    assert "0 created, 3 updated, 28 unchanged" in output
    assert Area.objects.get(code="DS0C0G0M0").boundary == rectangle(120, 36, 120 + STEP, edge)
    changed = Area.objects.get(code="DS1C1G1M1")
    assert (changed.name, changed.households) == ("海岸微网格", 88)
    assert BoundaryRevision.objects.get().revision == revision + 1
    audit = BoundaryChange.objects.order_by("-revision").first()
    assert audit.updated_codes == ["DS0C0G0M0", "DS0C0G0M1", "DS1C1G1M1"] and audit.created_codes == []
    assert audit.revision == revision + 1 and audit.source.endswith("boundaries.geojson")
    assert audit.actor.startswith("manage.py boundaries")


def test_it_creates_areas_under_a_parent_in_the_database(tree, tmp_path):
    data = boundaries_export(root=tree["DS0C0G0"])
    data["features"] = [f for f in data["features"] if f["properties"]["level"] != "grid"]
    for f in data["features"]:
        f["properties"]["code"] = f["properties"]["code"].replace("DS0C0G0", "DS0C0G0X")
    # The grid's two micro-grids, re-drawn as four under the same grid: two new, two updated.
    half = STEP / 2
    pieces = []
    for k in range(4):
        pieces.append(
            {
                "type": "Feature",
                "geometry": rectangle(120, 36 + k * half, 120 + STEP, 36 + (k + 1) * half),
                "properties": {
                    "code": f"DS0C0G0M{k}",
                    "name": f"新微网格{k}",
                    "level": "microgrid",
                    "parent_code": "DS0C0G0",
                    "households": 30,
                },
            }
        )
    output = run_import(tmp_path, {"type": "FeatureCollection", "features": pieces})

    assert "2 created, 2 updated" in output
    created = Area.objects.get(code="DS0C0G0M3")
    assert created.path == "D/DS0/DS0C0/DS0C0G0/DS0C0G0M3/"
    assert created.parent_id == tree["DS0C0G0"].pk


# --- Refusals ----------------------------------------------------------------------------------


def test_it_rejects_a_self_intersecting_polygon(tree, tmp_path):
    data = boundaries_export()
    x0, y0 = 120, 36
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + STEP, y0 + STEP], [x0 + STEP, y0], [x0, y0 + STEP], [x0, y0]]],
    }
    feature(data, "DS0C0G0M0")["geometry"] = bow_tie

    message = refused(tmp_path, data)

    assert "#" in message and "DS0C0G0M0" in message and "第1街道1社区1网格1微网格" in message
    assert "Self-intersection" in message
    # The broken polygon does not also produce a cascade of gap errors for its parent.
    assert "not covered" not in message


def test_it_rejects_an_overlap_between_siblings_and_names_both(tree, tmp_path):
    data = boundaries_export()
    feature(data, "DS0C0G0M0")["geometry"] = rectangle(120, 36, 120 + STEP, 36 + 1.5 * STEP)

    message = refused(tmp_path, data)

    assert "overlap" in message
    assert "DS0C0G0M0" in message and "第1街道1社区1网格1微网格" in message
    assert "DS0C0G0M1" in message and "第1街道1社区1网格2微网格" in message


def test_it_rejects_a_gap_and_says_where(tree, tmp_path):
    data = boundaries_export()
    feature(data, "DS0C0G0M0")["geometry"] = rectangle(120, 36, 120 + STEP, 36 + 0.5 * STEP)

    with pytest.raises(BoundaryError) as caught:
        boundaries_import(data=data)

    [problem] = caught.value.problems
    assert problem.kind == "gap"
    assert problem.codes == ("DS0C0G0",)
    assert "DS0C0G0" in problem.message and "第1街道1社区1网格" in problem.message
    # A 0.01° × 0.005° strip at 36°N is about 1.11 km × 0.45 km ≈ 501,000 m².
    assert "m²" in problem.message and "501," in problem.message
    assert "lon 120.005" in problem.message


def test_the_command_reports_a_gap_and_writes_nothing(tree, tmp_path):
    data = boundaries_export()
    feature(data, "DS0C0G0M0")["geometry"] = rectangle(120, 36, 120 + STEP, 36 + 0.5 * STEP)
    assert "is not covered by its children" in refused(tmp_path, data)


def test_it_rejects_a_child_outside_its_parent(tree, tmp_path):
    data = boundaries_export()
    feature(data, "DS0C0G0M0")["geometry"] = rectangle(120 - STEP / 2, 36, 120 + STEP / 2, 36 + STEP)

    message = refused(tmp_path, data)

    assert "lies partly outside its parent" in message
    assert "DS0C0G0M0" in message and "第1街道1社区1网格1微网格" in message


def test_it_checks_database_children_against_a_changed_parent(tree, tmp_path):
    data = boundaries_export()
    data["features"] = [feature(data, "DS0C0G0")]
    data["features"][0]["geometry"] = rectangle(120, 36, 120 + STEP, 36 + 1.5 * STEP)

    message = refused(tmp_path, data)

    # The micro-grid is not in the file; it is named as a database area.
    assert "DS0C0G0M1" in message and "(in the database)" in message


def test_it_rejects_an_unknown_parent(tree, tmp_path):
    data = boundaries_export()
    orphan = copy.deepcopy(feature(data, "DS0C0G0M0"))
    orphan["properties"].update(code="ORPHAN", name="孤儿微网格", parent_code="NOPE")
    data["features"].append(orphan)

    message = refused(tmp_path, data)

    assert "ORPHAN" in message and "孤儿微网格" in message and "NOPE" in message
    assert f"#{len(data['features']) - 1}" in message


@pytest.mark.parametrize(
    ("level", "expected"),
    [("village", "unknown level 'village'"), ("grid", "must sit under a community"), (5, "unknown level 5")],
)
def test_it_rejects_a_bad_level(tree, tmp_path, level, expected):
    data = boundaries_export()
    new = copy.deepcopy(feature(data, "DS0C0G0M0"))
    new["properties"].update(code="NEW", name="新区域", level=level, households=None)
    data["features"].append(new)

    message = refused(tmp_path, data)

    assert expected in message and "NEW" in message and "新区域" in message


def test_it_rejects_a_changed_level(tree, tmp_path):
    data = boundaries_export()
    feature(data, "DS0C0G0M0")["properties"].update(level="grid", households=None)
    assert "level cannot change" in refused(tmp_path, data)


def test_it_rejects_a_duplicate_code(tree, tmp_path):
    data = boundaries_export()
    data["features"].append(copy.deepcopy(feature(data, "DS0C0G0M0")))

    message = refused(tmp_path, data)

    assert "DS0C0G0M0" in message and "used again" in message


def test_it_refuses_to_move_an_area_to_another_parent(tree, tmp_path):
    data = boundaries_export()
    feature(data, "DS0C0G0")["properties"]["parent_code"] = "DS0C1"
    message = refused(tmp_path, data)
    assert "DS0C0G0" in message and "moving the area" in message


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [120.005, 36.005]},
        None,
        {"type": "Polygon", "coordinates": [[[1, 2]]]},
        {"type": "Polygon", "coordinates": [[[500, 36], [501, 36], [501, 37], [500, 36]]]},
    ],
)
def test_it_rejects_a_geometry_that_is_not_a_polygon_in_degrees(tree, tmp_path, geometry):
    data = boundaries_export()
    feature(data, "DS0C0G0M0")["geometry"] = geometry
    message = refused(tmp_path, data)
    assert "DS0C0G0M0" in message and ("geometry" in message or "coordinates" in message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"type": "Feature"}', "not a FeatureCollection"),
        ("[1, 2]", "not a FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no features"),
    ],
)
def test_it_rejects_a_file_that_is_not_a_feature_collection(tree, tmp_path, text, expected):
    assert expected in refused(tmp_path, text)


def test_it_reports_every_problem_of_a_file_at_once(tree, tmp_path):
    data = boundaries_export()
    feature(data, "DS0C0G0M0")["geometry"] = rectangle(120, 36, 120 + STEP, 36 + 1.5 * STEP)
    feature(data, "DS1C1G1M1")["properties"]["level"] = "hamlet"
    feature(data, "DS1C0")["properties"]["name"] = ""

    with pytest.raises(BoundaryError) as caught:
        boundaries_import(data=data)

    assert {problem.kind for problem in caught.value.problems} >= {"overlap", "bad_level", "bad_name"}


def test_it_stops_collecting_at_the_problem_limit(tree):
    data = boundaries_export()
    for f in list(data["features"]):
        for _copy in range(5):
            data["features"].append(copy.deepcopy(f))

    with pytest.raises(BoundaryError) as caught:
        boundaries_import(data=data)

    assert len(caught.value.problems) == MAX_PROBLEMS
    assert caught.value.truncated


def test_it_does_not_blame_children_for_a_refused_parent(tree):
    data = boundaries_export(root=tree["DS1"])
    copied = json.loads(json.dumps(data).replace('"DS1', '"DS9'))
    feature(copied, "DS9")["properties"]["level"] = "town"

    with pytest.raises(BoundaryError) as caught:
        boundaries_import(data=copied)

    [problem] = caught.value.problems
    assert problem.kind == "bad_level" and problem.codes == ("DS9",)


def test_every_boundary_change_leaves_an_audit_row(db):
    from grids import demo

    specs = demo.generate_areas(seed=1, scale=0.01)
    demo.seed_areas(specs)
    seeded = BoundaryChange.objects.get()
    assert seeded.actor == "seed_demo" and len(seeded.created_codes) == len(specs)
    demo.delete_areas()
    deleted = BoundaryChange.objects.order_by("-revision").first()
    assert sorted(deleted.deleted_codes) == sorted(spec.code for spec in specs)
    assert deleted.revision == seeded.revision + 1
