"""The finder's list pages on any database (the SQLite demo too): each page is the next 20 residents
by record id, the same as the ids the finder's query gives in that order."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from residents.finder import FinderQuery, finder_residents
from tests.residents.test_finder_counts import district_user, frozen, fworld  # noqa: F401 - fixtures


@pytest.mark.parametrize("params", [{"gender": "female"}, {"q": "幸福"}, {"house_use": "rented"}])
def test_each_page_is_the_next_twenty_by_id(fworld, district_user, params):  # noqa: F811
    client = Client()
    client.force_login(district_user)
    query = FinderQuery(
        gender=params.get("gender", ""),
        keyword=params.get("q", ""),
        house_uses=tuple(filter(None, [params.get("house_use")])),
    )
    ids = list(finder_residents(district_user, query).order_by("pk").values_list("pk", flat=True))
    assert len(ids) > 20
    last = (len(ids) + 19) // 20
    for number, shown in ((1, 1), (2, 2), (last, last), (last + 2, last)):
        response = client.get(reverse("finder:search"), {**params, "page": number})
        assert response.status_code == 200
        assert response.context["count"] == len(ids)
        assert [row["pk"] for row in response.context["rows"]] == ids[(shown - 1) * 20 : shown * 20]
