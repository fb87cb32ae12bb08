"""One scenario per role on the demo district, each driven through the real pages as that user would.

The demo (`seed_demo` at a small scale) gives the accounts, areas and departments; each test files
the petition it needs through the services (the demo's own cases are in whatever state "now" left
them), then the steps the scenario names go through the browser: sign in, find the case in the
worklist or on the panorama, open it, fill the action's form, and read the new state and the new
line of the timeline on the page. Where several roles take part, each signs in in its own context.

Selectors lean on what the restyled pages keep: the form posting to `/act/<action>/`, field names,
the action labels of the registry (Chinese), link targets.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect
from shapely.geometry import shape

from appeals.actions import REGISTRY
from appeals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Category,
    Channel,
    EventType,
    ExtensionStatus,
    HandlingMode,
    Petition,
    Status,
    Tier,
)
from appeals.services import (
    petition_accept,
    petition_escalate,
    petition_route,
    petition_submit,
    petition_whistle,
)
from governance.models import Role, StaffPost
from grids.models import Area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def zh(text) -> str:
    """The Chinese the pages show: of a lazy label, or of a msgid."""
    with translation.override("zh-hans"):
        return translation.gettext(text) if isinstance(text, str) else str(text)


def staff(username: str):
    return StaffPost.objects.select_related("user", "area", "department").get(user__username=username)


def new_case(title: str) -> Petition:
    """A resident's petition at a point of the demo micro-grid head's micro-grid, routed to the demo
    grid worker's grid (status assigned, tier grid)."""
    microgrid = staff("microgrid").area
    point = shape(microgrid.boundary).representative_point()
    category = Category.objects.filter(parent__isnull=False, is_active=True).order_by("code").first()
    petition = petition_submit(
        channel=Channel.MOBILE,
        title=title,
        description=f"{title}：居民反映已经好几天了，请尽快处理。",
        contact_phone="13800138000",
        contact_name="王女士",
        category=category,
        lon=point.x,
        lat=point.y,
    ).petition
    petition_route(petition_id=petition.pk)
    petition.refresh_from_db()
    assert (petition.status, petition.handler_area_id) == (Status.ASSIGNED, staff("grid").area_id)
    return petition


def case_at_street(title: str) -> Petition:
    """A new case escalated by the grid and the community: assigned to the demo street."""
    petition = new_case(title)
    petition_escalate(petition_id=petition.pk, actor=staff("grid").user, note="网格无法解决，请社区协调")
    petition_escalate(petition_id=petition.pk, actor=staff("community").user, note="涉及多个部门，请街道协调")
    petition.refresh_from_db()
    assert (petition.tier, petition.handler_area_id) == (Tier.STREET, staff("street").area_id)
    return petition


def overdue(petition: Petition) -> Petition:
    """Its deadline long past (older than every demo case), so it heads the panorama's attention list."""
    Petition.objects.filter(pk=petition.pk).update(deadline_at=timezone.now() - timedelta(days=3 * 365))
    petition.refresh_from_db()
    return petition


# --- Browser steps ----------------------------------------------------------------------------------


def open_from_worklist(page: Page, petition: Petition, *, tab: str = "todo") -> None:
    """The worklist's tab, its search box with the tracking number, then the case's link."""
    page.goto(f"/petitions/?tab={tab}")
    search = page.locator("form#worklist-filters [name=q]")
    search.fill(petition.tracking_no)
    search.press("Enter")
    page.wait_for_url(lambda url: "q=" in url)
    page.locator(f"main a[href='/petitions/{petition.tracking_no}/']").first.click()
    page.wait_for_url(f"**/petitions/{petition.tracking_no}/")


def action_form(page: Page, name: str):
    """The form of action `name` (posting to /act/<name>/), opened if it is folded away."""
    form = page.locator(f"form[action$='/act/{name}/']")
    expect(form).to_have_count(1)
    if not form.is_visible():
        folded = form.locator("xpath=ancestor::details[1]/summary")
        if folded.count():
            folded.click()
        else:
            page.get_by_text(zh(REGISTRY[name].label), exact=True).first.click()
    expect(form).to_be_visible()
    return form


def submit(page: Page, form, name: str) -> None:
    """Press the action's button and wait for the page saying it was done."""
    label = zh(REGISTRY[name].label)
    form.get_by_role("button", name=label, exact=True).click()
    expect(page.get_by_text(zh("Done: %(action)s.") % {"action": label})).to_be_visible()


def act(page: Page, name: str, **fields: str) -> None:
    """Fill the action's fields (text by field name; `select__x` picks an option by its label, `value__x` by
    its value) and submit."""
    form = action_form(page, name)
    for field, value in fields.items():
        if field.startswith("select__"):
            form.locator(f"[name='{name}-{field.removeprefix('select__')}']").select_option(label=value)
        elif field.startswith("value__"):
            form.locator(f"[name='{name}-{field.removeprefix('value__')}']").select_option(value=value)
        else:
            form.locator(f"[name='{name}-{field}']").fill(value)
    submit(page, form, name)


def timeline(page: Page):
    """The timeline: the container of its heading (whatever the restyle wraps it in)."""
    return page.get_by_role("heading", name=zh("Timeline")).locator("xpath=..")


def timeline_shows(page: Page, event: EventType, *, times: int = 1) -> None:
    entries = timeline(page).get_by_role("listitem").filter(has_text=zh(event.label))
    expect(entries).to_have_count(times)


def status_shows(page: Page, status: Status) -> None:
    expect(page.locator("main")).to_contain_text(zh(status.label))


def offered(page: Page, name: str) -> bool:
    return page.locator(f"form[action$='/act/{name}/']").count() == 1


# --- The scenarios ----------------------------------------------------------------------------------


def test_grid_worker_accepts_handles_and_resolves(as_user):
    petition = new_case("楼道堆放杂物堵塞通道")
    page = as_user("grid")

    # The new case is on the grid worker's home (nearest deadlines first).
    page.locator(f"main a[href='/petitions/{petition.tracking_no}/']").first.click()
    page.wait_for_url(f"**/petitions/{petition.tracking_no}/")
    status_shows(page, Status.ASSIGNED)

    act(page, "accept")
    status_shows(page, Status.ACCEPTED)
    timeline_shows(page, EventType.ACCEPTED)
    assert not offered(page, "accept")

    act(page, "handle", select__handling_mode=zh(HandlingMode.FAST.label), note="已联系物业，约定今天下午清理")
    status_shows(page, Status.PROCESSING)
    timeline_shows(page, EventType.HANDLING)

    act(page, "reply", reply="物业已将楼道杂物清理完毕，通道恢复畅通。")
    status_shows(page, Status.RESOLVED)
    timeline_shows(page, EventType.RESOLVED)
    expect(page.locator("main")).to_contain_text("通道恢复畅通")

    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED
    assert petition.reply == "物业已将楼道杂物清理完毕，通道恢复畅通。"
    assert list(petition.events.order_by("pk").values_list("type", flat=True))[-3:] == [
        EventType.ACCEPTED,
        EventType.HANDLING,
        EventType.RESOLVED,
    ]


def test_grid_worker_escalates_and_the_community_takes_it(as_user):
    petition = new_case("小区围墙开裂有倒塌危险")
    petition_accept(petition_id=petition.pk, actor=staff("grid").user)
    grid = as_user("grid")

    open_from_worklist(grid, petition)
    act(grid, "escalate", note="围墙属于小区公共部位，需要社区协调维修资金")
    timeline_shows(grid, EventType.ESCALATED)
    expect(grid.locator("main")).to_contain_text("需要社区协调维修资金")
    # The grid no longer handles it: nothing left for it to do but to watch.
    assert not offered(grid, "reply")

    petition.refresh_from_db()
    assert (petition.status, petition.tier) == (Status.ASSIGNED, Tier.COMMUNITY)
    assert petition.handler_area_id == staff("secretary").area_id

    secretary = as_user("secretary")
    open_from_worklist(secretary, petition)
    act(secretary, "accept")
    status_shows(secretary, Status.ACCEPTED)
    petition.refresh_from_db()
    assert (petition.status, petition.tier) == (Status.ACCEPTED, Tier.COMMUNITY)


def test_street_whistles_and_both_departments_report_in_and_reply(as_user):
    petition = case_at_street("道路施工夜间噪音扰民")
    lead = staff("dept").department
    assisting_post = (
        StaffPost.objects.select_related("user", "department")
        .filter(role=Role.DEPARTMENT_HANDLER, department__isnull=False)
        .exclude(department=lead)
        .order_by("department__code")
        .first()
    )
    assisting = assisting_post.department

    street = as_user("street")
    open_from_worklist(street, petition)
    form = action_form(street, "whistle")
    form.locator("[name='whistle-lead']").select_option(label=lead.name)
    form.get_by_label(assisting.name, exact=True).check()
    form.locator("[name='whistle-note']").fill("城管牵头，协办部门核查施工许可")
    submit(street, form, "whistle")
    status_shows(street, Status.DISPATCHED)
    timeline_shows(street, EventType.WHISTLED)
    parts = dict(Assignment.objects.filter(petition=petition).values_list("department_id", "role"))
    assert parts == {lead.pk: AssignmentRole.LEAD, assisting.pk: AssignmentRole.ASSIST}

    lead_page = as_user("dept")
    open_from_worklist(lead_page, petition)
    act(lead_page, "report_in")
    timeline_shows(lead_page, EventType.REPORTED_IN)
    # The lead's reply resolves the case: not before the assisting department has replied.
    assert not offered(lead_page, "department_reply")

    helper = as_user(assisting_post.user.username)
    open_from_worklist(helper, petition)
    act(helper, "report_in")
    act(helper, "department_reply", reply="已核查，施工单位夜间施工许可已过期，已责令停止夜间作业。")
    timeline_shows(helper, EventType.DEPARTMENT_REPLIED)
    status_shows(helper, Status.DISPATCHED)

    lead_page.reload()
    act(lead_page, "department_reply", reply="已约谈施工单位，夜间22点后停止施工，噪音问题已解决。")
    status_shows(lead_page, Status.RESOLVED)
    timeline_shows(lead_page, EventType.RESOLVED)
    timeline_shows(lead_page, EventType.REPORTED_IN, times=2)

    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED
    assert set(Assignment.objects.filter(petition=petition).values_list("status", flat=True)) == {
        AssignmentStatus.REPLIED
    }


def test_department_returns_with_a_reason_and_the_street_reroutes(as_user):
    petition = case_at_street("小区内部绿化带被占用种菜")
    petition_whistle(
        petition_id=petition.pk, actor=staff("street").user, lead_department_id=staff("dept").department_id
    )
    reason = "小区内部绿化属于物业管理范围，不属于城管职责，请社区协调物业处理"

    dept = as_user("dept")
    open_from_worklist(dept, petition)
    act(dept, "return", reason=reason)
    # Returned, the case is out of the department's sight: it is back on its worklist.
    dept.wait_for_url("**/petitions/")
    petition.refresh_from_db()
    assert petition.status == Status.RETURNED
    assert petition.handler_area_id == staff("street").area_id

    street = as_user("street")
    open_from_worklist(street, petition)
    expect(timeline(street)).to_contain_text(reason)
    community = staff("community").area
    act(street, "place", value__area=community.code, note="请社区协调物业处理")
    status_shows(street, Status.ASSIGNED)
    timeline_shows(street, EventType.REROUTED)

    petition.refresh_from_db()
    assert (petition.status, petition.handler_area_id, petition.tier) == (Status.ASSIGNED, community.pk, Tier.COMMUNITY)


def test_grid_asks_for_an_extension_and_the_community_grants_it(as_user):
    petition = new_case("老旧小区雨水管道破损需更换")
    petition_accept(petition_id=petition.pk, actor=staff("grid").user)
    petition.refresh_from_db()
    wanted = timezone.localtime(petition.deadline_at + timedelta(days=3)).replace(second=0, microsecond=0)

    grid = as_user("grid")
    open_from_worklist(grid, petition)
    act(grid, "ask_extension", new_deadline=wanted.strftime("%Y-%m-%dT%H:%M"), reason="需要采购管材，预计三天到货")
    timeline_shows(grid, EventType.EXTENSION_ASKED)
    assert not offered(grid, "ask_extension")  # one request at a time

    community = as_user("community")
    open_from_worklist(community, petition)
    expect(community.locator("main")).to_contain_text("需要采购管材")
    # The requested deadline shows on the request; once granted, as the case's deadline too.
    shown = community.get_by_text(wanted.strftime("%Y-%m-%d %H:%M"))
    before = shown.count()
    assert before >= 1
    form = action_form(community, "decide_extension")
    form.get_by_label(zh("Grant"), exact=True).check()
    form.locator("[name='decide_extension-note']").fill("同意，请按期完成")
    submit(community, form, "decide_extension")
    timeline_shows(community, EventType.EXTENSION_GRANTED)
    expect(shown).to_have_count(before + 1)

    petition.refresh_from_db()
    assert petition.deadline_at == wanted
    assert petition.extensions.get().status == ExtensionStatus.GRANTED


def test_district_urges_and_supervises_from_the_panorama(as_user):
    petition = overdue(new_case("背街小巷路灯长期不亮"))

    district = as_user("district")
    district.locator("main a[href='/panorama/']").first.click()
    district.wait_for_url("**/panorama/")
    attention = district.locator(f"#pano-live a[href='/petitions/{petition.tracking_no}/']")
    attention.first.click()
    district.wait_for_url(f"**/petitions/{petition.tracking_no}/")

    act(district, "urge", note="请网格今天内处理并回复")
    timeline_shows(district, EventType.URGED)
    act(district, "supervise", note="区指挥中心督办，逾期严重")
    timeline_shows(district, EventType.SUPERVISED)
    assert not offered(district, "supervise")  # supervised once

    petition.refresh_from_db()
    assert petition.supervised
    assert set(petition.events.values_list("type", flat=True)) >= {EventType.URGED, EventType.SUPERVISED}


def test_one_click_transfer_from_the_panorama(as_user):
    petition = overdue(new_case("菜市场周边占道经营"))
    community = staff("community").area
    target = Area.objects.filter(parent=community).exclude(pk=petition.handler_area_id).order_by("code").first()

    district = as_user("district")
    district.goto("/panorama/")
    row = district.locator("#pano-live li", has=district.locator(f"a[href='/petitions/{petition.tracking_no}/']"))
    row.get_by_role("link", name=zh("Transfer"), exact=True).click()
    panel = district.locator("#transfer-panel")
    expect(panel).to_contain_text(petition.tracking_no)
    panel.locator("select[name=target]").select_option(value=f"area:{target.code}")
    panel.locator("input[name=note]").fill("属于第2网格，一键转办")
    panel.get_by_role("button", name=zh("Transfer"), exact=True).click()
    expect(panel.get_by_role("status")).to_contain_text(zh(REGISTRY["transfer"].label))

    petition.refresh_from_db()
    assert (petition.status, petition.handler_area_id) == (Status.ASSIGNED, target.pk)
    district.goto(f"/petitions/{petition.tracking_no}/")
    timeline_shows(district, EventType.REROUTED)
    expect(timeline(district)).to_contain_text("一键转办")
