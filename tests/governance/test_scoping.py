from django.urls import reverse

from governance.models import Department, Role, StaffPost
from governance.scoping import Scope, scope_for
from governance.selectors import area_get_for_user, areas_visible_to
from grids.models import Area, AreaLevel
from tests.factories import make_department, make_user


def codes(queryset) -> set[str]:
    return set(queryset.values_list("code", flat=True))


def test_it_lets_a_street_see_its_communities_and_not_the_neighbouring_street(tree, street_command):
    visible = codes(areas_visible_to(street_command))
    assert {"DS0", "DS0C0", "DS0C1", "DS0C0G0M0"} <= visible
    assert not any(code.startswith("DS1") for code in visible)
    assert "D" not in visible


def test_it_lets_a_grid_worker_see_only_their_grid(tree, grid_worker_a):
    assert codes(areas_visible_to(grid_worker_a)) == {"DS0C0G0", "DS0C0G0M0", "DS0C0G0M1"}


def test_it_lets_the_district_centre_see_every_area(tree, district_centre):
    assert areas_visible_to(district_centre).count() == Area.objects.count()


def test_it_shows_a_department_no_area_data(tree, department_handler):
    assert areas_visible_to(department_handler).count() == 0
    assert scope_for(department_handler).department_ids == (department_handler.posts.get().department_id,)


def test_it_shows_a_resident_nothing(tree, resident):
    assert areas_visible_to(resident).count() == 0


def test_it_lets_an_administrator_see_everything(tree, administrator):
    assert areas_visible_to(administrator).count() == Area.objects.count()


def test_it_unions_several_posts_without_duplicates(tree):
    user = make_user("two_posts", role=Role.GRID_WORKER, area=tree["DS0C0G0"])
    StaffPost.objects.create(user=user, role=Role.COMMUNITY_WORKER, area=tree["DS0C0"])
    StaffPost.objects.create(user=user, role=Role.GRID_WORKER, area=tree["DS1C1G1"])
    scope = scope_for(user)
    # The grid inside the community collapses into the community's subtree.
    assert scope.area_paths == (tree["DS0C0"].path, tree["DS1C1G1"].path)
    assert areas_visible_to(user).count() == 7 + 3


def test_it_ignores_inactive_posts(tree):
    user = make_user("retired", role=Role.STREET_COMMAND, area=tree["DS0"])
    user.posts.update(is_active=False)
    assert areas_visible_to(user).count() == 0


def test_it_reads_posts_once_per_request(tree, street_command, django_assert_num_queries):
    with django_assert_num_queries(1):
        scope_for(street_command)
        scope_for(street_command)


def test_it_answers_out_of_scope_and_missing_areas_with_the_same_404(tree, street_command, client):
    client.force_login(street_command)
    assert client.get(reverse("grids:area_detail", args=["DS0C1"])).status_code == 200
    other = client.get(reverse("grids:area_detail", args=["DS1C0"]))
    missing = client.get(reverse("grids:area_detail", args=["NOPE"]))
    assert other.status_code == missing.status_code == 404


def test_it_filters_by_department_field_for_department_staff(tree, department_handler):
    other = make_department("SJ", "区市场监督管理局")
    scope = scope_for(department_handler)
    visible = scope.filter(Department.objects.all(), path_field=None, department_field="pk")
    assert list(visible) == [department_handler.posts.get().department]
    assert other not in visible


def test_it_refuses_a_post_whose_target_does_not_match_the_role(tree, department):
    import pytest
    from django.db import IntegrityError, transaction

    user = make_user("bad")
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffPost.objects.create(user=user, role=Role.GRID_WORKER, department=department)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffPost.objects.create(user=user, role=Role.DEPARTMENT_HANDLER, area=tree["DS0"])


def test_an_empty_scope_filters_to_nothing(tree):
    assert Scope(user_id=None).filter(Area.objects.all()).count() == 0


def test_it_finds_an_area_in_scope_by_code(tree, grid_worker_a):
    assert area_get_for_user(grid_worker_a, code="DS0C0G0M1").level == AreaLevel.MICROGRID


def test_the_area_admin_is_for_administrators_only(tree, client, administrator):
    street_user = make_user("street_admin", role=Role.STREET_COMMAND, area=tree["DS1"], is_staff=True)
    client.force_login(street_user)
    assert client.get(reverse("admin:grids_area_changelist")).status_code == 403
    assert client.get(reverse("admin:grids_area_change", args=[tree["DS1C0"].pk])).status_code == 403
    client.force_login(administrator)
    everything = client.get(reverse("admin:grids_area_changelist"))
    assert {area.code[:3] for area in everything.context["cl"].result_list} >= {"DS0", "DS1"}


def test_it_shows_anonymous_visitors_the_resident_entry_points(client, db):
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert reverse("appeals:new") in page.content.decode()


def test_it_sends_a_resident_home_to_their_own_petitions(client, resident):
    client.force_login(resident)
    assert client.get(reverse("home"))["Location"] == reverse("appeals:mine")
