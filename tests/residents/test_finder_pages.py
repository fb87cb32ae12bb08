"""The finder's list pages on any database (the SQLite demo too): each page is the next 20 residents
by record id, the same as the ids the finder's query gives in that order."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from governance.models import Role
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


def test_finder_forms_share_their_prepared_fields_and_never_change_them(tree, community_secretary):
    """FinderForm's fields are prepared once per set of tags offered (residents.finder_forms): a form
    of another scope offers its own tags, a chosen area is validated on the form's own copy."""
    from governance.scoping import scope_for
    from residents.finder_forms import FinderForm
    from residents.models import Tag
    from tests.factories import make_user

    own = Tag.objects.create(code="own", name="自定义", community=tree["DS0C0"])
    other_secretary = make_user("secretary1", role=Role.COMMUNITY_SECRETARY, area=tree["DS1C0"])
    mine = FinderForm({"tags": [own.pk]}, scope=scope_for(community_secretary))
    theirs = FinderForm({"tags": [own.pk]}, scope=scope_for(other_secretary))
    assert mine.is_valid(), mine.errors
    assert mine.cleaned_data["tags"] == [own.pk]
    assert not theirs.is_valid() and "tags" in theirs.errors  # not offered outside its community
    assert str(own.pk) not in {value for value, _label in FinderForm.base_fields["tags"].choices}
    # A chosen area: validated against this reader's areas on a copy of the field.
    inside = FinderForm({"area": tree["DS0C0G0"].pk}, scope=scope_for(community_secretary))
    outside = FinderForm({"area": tree["DS1C0"].pk}, scope=scope_for(community_secretary))
    assert inside.is_valid(), inside.errors
    assert not outside.is_valid() and "area" in outside.errors
    assert inside.fields["area"] is not FinderForm.base_fields["area"]
    assert FinderForm({}, scope=scope_for(community_secretary)).fields["area"].queryset.count() == 0
