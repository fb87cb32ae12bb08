"""grids.spatial.microgrid_at and GET /api/v1/areas/locate/: edges, ties, outside, index rebuilds."""

from __future__ import annotations

import random

import pytest
from django.db.models import F

from grids import spatial
from grids.geojson import boundaries_export, boundaries_import
from grids.models import Area, AreaLevel, BoundaryRevision
from grids.services import boundary_revision_bump
from grids.spatial import MicrogridIndex, microgrid_at
from tests.factories import STEP, rectangle

X0, Y0 = 120, 36


def code_of(i: int, j: int) -> str:
    """The fixture's micro-grid (i, j): streets and grids split x, communities and micro-grids y."""
    return f"DS{i // 2}C{j // 2}G{i % 2}M{j % 2}"


def x(i: float) -> float:
    # Same expression as tests.factories, so shared edges are the very same floats.
    return X0 + i * STEP


def y(j: float) -> float:
    return Y0 + j * STEP


def located_code(lon: float, lat: float) -> str | None:
    hit = microgrid_at(lon, lat)
    return None if hit is None else hit.code


@pytest.mark.parametrize(("i", "j"), [(i, j) for i in range(4) for j in range(4)])
def test_it_finds_the_micro_grid_around_an_interior_point(tree, i, j):
    hit = microgrid_at(x(i + 0.5), y(j + 0.3))
    assert hit is not None
    area = tree[code_of(i, j)]
    assert (hit.code, hit.area_id, hit.path) == (area.code, area.pk, area.path)


@pytest.mark.parametrize(
    ("lon", "lat", "candidates"),
    [
        # Vertical edge between two grids of one community.
        (x(1), y(0.5), [(0, 0), (1, 0)]),
        # Vertical edge between two streets: the smaller code is in the other street.
        (x(2), y(2.5), [(1, 2), (2, 2)]),
        # Horizontal edge between two communities.
        (x(3.5), y(2), [(3, 1), (3, 2)]),
    ],
)
def test_it_gives_a_point_on_a_shared_edge_to_the_smallest_code(tree, lon, lat, candidates):
    expected = min(code_of(i, j) for i, j in candidates)
    assert located_code(lon, lat) == expected


def test_it_gives_a_vertex_where_four_micro_grids_meet_to_the_smallest_code(tree):
    # Four streets' worth of codes meet at the district's centre.
    candidates = [code_of(i, j) for i in (1, 2) for j in (1, 2)]
    assert located_code(x(2), y(2)) == min(candidates) == "DS0C0G1M1"


def test_it_breaks_ties_the_same_way_whatever_the_row_order(tree):
    rows = list(
        Area.objects.filter(level=AreaLevel.MICROGRID).values_list("pk", "code", "path", "boundary").order_by("-code")
    )
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    answers = {
        tuple(MicrogridIndex(order, revision=0).locate(lon, lat).code for lon, lat in [(x(2), y(2)), (x(1), y(3))])
        for order in (rows, shuffled, sorted(rows))
    }
    assert answers == {("DS0C0G1M1", "DS0C1G0M0")}


@pytest.mark.parametrize(
    ("lon", "lat"), [(x(-0.5), y(1)), (x(4.5), y(1)), (x(2), y(-0.01)), (x(2), y(4.01)), (0.0, 0.0)]
)
def test_it_returns_none_outside_the_district(tree, lon, lat):
    assert microgrid_at(lon, lat) is None


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (x(0), y(0.5), code_of(0, 0)),  # west edge
        (x(4), y(3.5), code_of(3, 3)),  # east edge
        (x(2.5), y(0), code_of(2, 0)),  # south edge
        (x(0), y(0), code_of(0, 0)),  # south-west corner
        (x(4), y(4), code_of(3, 3)),  # north-east corner
        (x(2), y(4), code_of(1, 3)),  # outer edge where two micro-grids meet
    ],
)
def test_it_gives_a_point_on_the_outer_boundary_to_a_micro_grid(tree, lon, lat, expected):
    assert located_code(lon, lat) == expected


def test_it_returns_none_when_no_micro_grid_has_a_boundary(db):
    assert microgrid_at(x(1), y(1)) is None


# --- Rebuilding after boundary changes ---------------------------------------------------------

# A point of micro-grid (0, 1) that moves to (0, 0) once their shared edge moves north.
POINT = (x(0.5), y(1.2))
NEW_EDGE = y(1.5)


def move_edge_in_database(tree) -> None:
    """Change the boundaries behind the index's back: no revision bump, no callbacks."""
    Area.objects.filter(code=code_of(0, 0)).update(boundary=rectangle(x(0), y(0), x(1), NEW_EDGE))
    Area.objects.filter(code=code_of(0, 1)).update(boundary=rectangle(x(0), NEW_EDGE, x(1), y(2)))


def test_it_rebuilds_this_process_index_after_an_import(tree, settings, django_capture_on_commit_callbacks):
    # A long check interval proves the rebuild comes from the importing process's own invalidation.
    settings.SPATIAL_INDEX_CHECK_SECONDS = 3600
    assert located_code(*POINT) == code_of(0, 1)
    data = boundaries_export()
    for f in data["features"]:
        if f["properties"]["code"] == code_of(0, 0):
            f["geometry"] = rectangle(x(0), y(0), x(1), NEW_EDGE)
        elif f["properties"]["code"] == code_of(0, 1):
            f["geometry"] = rectangle(x(0), NEW_EDGE, x(1), y(2))

    with django_capture_on_commit_callbacks(execute=True):
        boundaries_import(data=data)

    assert located_code(*POINT) == code_of(0, 0)


def test_it_rebuilds_this_process_index_after_a_revision_bump(tree, settings, django_capture_on_commit_callbacks):
    settings.SPATIAL_INDEX_CHECK_SECONDS = 3600
    assert located_code(*POINT) == code_of(0, 1)
    move_edge_in_database(tree)
    with django_capture_on_commit_callbacks(execute=True):
        boundary_revision_bump()
    assert located_code(*POINT) == code_of(0, 0)


def test_it_keeps_its_index_until_the_check_interval_passes(tree, settings):
    settings.SPATIAL_INDEX_CHECK_SECONDS = 3600
    assert located_code(*POINT) == code_of(0, 1)
    move_edge_in_database(tree)
    BoundaryRevision.objects.filter(pk=1).update(revision=F("revision") + 1)
    assert located_code(*POINT) == code_of(0, 1)


def test_it_keeps_its_index_while_the_revision_does_not_move(tree, settings):
    settings.SPATIAL_INDEX_CHECK_SECONDS = 0
    assert located_code(*POINT) == code_of(0, 1)
    move_edge_in_database(tree)
    assert located_code(*POINT) == code_of(0, 1)


def test_it_rebuilds_when_another_process_moved_the_revision(tree, settings):
    settings.SPATIAL_INDEX_CHECK_SECONDS = 0
    assert located_code(*POINT) == code_of(0, 1)
    built = spatial.get_index()
    # What another process's import leaves behind: new boundaries and a new revision, and no
    # on-commit callback in this process.
    move_edge_in_database(tree)
    BoundaryRevision.objects.filter(pk=1).update(revision=F("revision") + 1)

    assert located_code(*POINT) == code_of(0, 0)
    assert spatial.get_index() is not built
    assert spatial.get_index().revision == BoundaryRevision.objects.get().revision


# --- GET /api/v1/areas/locate/ -----------------------------------------------------------------

URL = "/api/v1/areas/locate/"


def test_it_locates_a_point_in_the_workers_own_grid(client, grid_worker_a, tree):
    client.force_login(grid_worker_a)
    response = client.get(URL, {"lon": x(0.5), "lat": y(1.5)})
    assert response.status_code == 200
    assert response.json()["code"] == code_of(0, 1)
    assert response.json()["parent_code"] == "DS0C0G0"


def test_it_hides_a_micro_grid_in_another_street_from_a_grid_worker(client, grid_worker_a, tree):
    client.force_login(grid_worker_a)
    response = client.get(URL, {"lon": x(3.5), "lat": y(3.5)})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # "Not in your area" must read exactly like "does not exist".
    assert response.json() == client.get("/api/v1/areas/NO-SUCH-AREA/").json()


def test_it_hides_a_neighbouring_grid_from_a_grid_worker(client, grid_worker_a, tree):
    client.force_login(grid_worker_a)
    assert client.get(URL, {"lon": x(1.5), "lat": y(0.5)}).status_code == 404


def test_it_lets_the_district_centre_locate_anywhere(client, district_centre, tree):
    client.force_login(district_centre)
    response = client.get(URL, {"lon": x(3.5), "lat": y(3.5)})
    assert response.status_code == 200
    assert response.json()["code"] == code_of(3, 3)


@pytest.mark.parametrize(
    ("params", "bad_fields"),
    [
        ({"lon": "east", "lat": y(1)}, {"lon"}),
        ({"lon": x(1)}, {"lat"}),
        ({}, {"lon", "lat"}),
        ({"lon": 200, "lat": 95}, {"lon", "lat"}),
        ({"lon": "nan", "lat": y(1)}, {"lon"}),
    ],
)
def test_it_rejects_bad_coordinates(client, district_centre, tree, params, bad_fields):
    client.force_login(district_centre)
    response = client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == "validation_error"
    assert set(body["extra"]["fields"]) == bad_fields


def test_it_answers_404_for_a_point_outside_the_district(client, district_centre, tree):
    client.force_login(district_centre)
    response = client.get(URL, {"lon": x(10), "lat": y(10)})
    assert response.status_code == 404
    assert response.json()["code"] == "outside_district"
    assert set(response.json()) == {"message", "code", "extra"}


def test_it_refuses_an_anonymous_caller(client, tree):
    response = client.get(URL, {"lon": x(0.5), "lat": y(0.5)})
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"message", "code", "extra"}


def test_the_index_respects_holes_and_multipolygons():
    ring = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    hole = [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]
    rows = [
        (1, "B-ring", "p/B/", {"type": "Polygon", "coordinates": [ring, hole]}),
        (2, "C-hole", "p/C/", {"type": "Polygon", "coordinates": [hole]}),
        (3, "A-far", "p/A/", {"type": "MultiPolygon", "coordinates": [[[[10, 0], [11, 0], [11, 1], [10, 0]]]]}),
    ]
    index = MicrogridIndex(rows, revision=0)
    assert index.locate(2, 2).code == "C-hole"
    assert index.locate(0.5, 2).code == "B-ring"
    assert index.locate(1, 2).code == "B-ring"  # on the hole's edge: both cover it, smallest code
    assert index.locate(10.9, 0.5).code == "A-far"
    assert index.locate(10.1, 0.9) is None  # inside the extent and the bucket, outside the triangle
    assert index.locate(7, 2) is None
    assert len(MicrogridIndex([], revision=0)) == 0
    assert MicrogridIndex([], revision=0).locate(0, 0) is None
