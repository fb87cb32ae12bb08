"""The scoped petition list uses one column per area level; it must equal the path-prefix rule."""

from appeals.models import Petition
from appeals.selectors import petitions_visible_to
from governance.models import Role
from governance.scoping import scope_for
from tests.appeals.conftest import POINT_OTHER_STREET
from tests.factories import make_user


def test_the_level_columns_select_exactly_the_petitions_under_the_scope_paths(
    submit, tree, grid_worker_a, community_secretary, street_command, other_street_command, district_centre
):
    submit()
    submit(POINT_OTHER_STREET)
    submit(None, reported_area=tree["DS0C1"])  # waits in a community intake queue
    submit(None)  # unlocated: the district's queue
    submit(route=False, reported_area=tree["DS1C0G1"])  # not routed yet
    head = make_user("head", role=Role.MICROGRID_HEAD, area=tree["DS0C0G0M0"])
    for user in (grid_worker_a, community_secretary, street_command, other_street_command, district_centre, head):
        by_path = scope_for(user).filter(Petition.objects.all(), path_field="area_path")
        assert set(petitions_visible_to(user)) == set(by_path), user.username
    assert petitions_visible_to(district_centre).count() == 5
