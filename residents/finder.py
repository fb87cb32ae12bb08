"""政策找人, the policy finder: conditions → the residents they describe, inside the reader's subtree.

One `FinderQuery` holds the conditions a worker sets (the form's cleaned values, or a saved
policy's JSON); `finder_residents(user, query)` turns it into one queryset over active residents:

* scope: `governance.scoping` (one equality on the level column of the reader's post), and, when
  the query names an area, the same equality for that area;
* age: a range on `birth_date`, computed from today's date in Asia/Shanghai;
* tags: on PostgreSQL `tag_ids && …` (any of them) or `tag_ids @> …` (all of them) on the
  resident's copy of its tag ids (GIN-indexed, kept by triggers: migration 0007); elsewhere one
  `EXISTS` over resident-tag rows (any of them) or one per tag (all of them);
* house use: a join on the resident's house (a resident has at most one, no duplicates);
* has an open petition: see `open_petition_condition` below;
* not contacted since a date: `NOT EXISTS` a policy contact on or after it;
* keyword: `ILIKE '%…%'` over the name, the house's address and the notes, each served on
  PostgreSQL by a trigram index (three characters or more) or by a GIN index of the column's
  one- and two-character grams (shorter keywords such as 疫区).

The count and the page come from that queryset; nothing is counted twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    F,
    Func,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from governance.scoping import LEVEL_FIELDS, LEVEL_PATH_FIELD, Scope, scope_for
from grids.models import Area
from residents.finder_cache import tag_names
from residents.models import House, Resident, ResidentStatus, ResidentTag
from residents.models.policy import Policy, PolicyContact
from residents.policy import VIEW_ROLES, record_access, records_visible_to

TAG_ANY, TAG_ALL = "any", "all"
KEYWORD_MAX = 50
# pg_trgm finds nothing to look up in a LIKE pattern shorter than this (“疫区” has no trigram).
TRIGRAM_MIN = 3
MAX_TAGS = 20
AGE_MAX = 130


# --- Keyword search ---------------------------------------------------------------------------------


@CharField.register_lookup
@TextField.register_lookup
class ContainsInsensitive(Lookup):
    """`col ILIKE '%value%'` on PostgreSQL (LIKE when the value has no letters to fold), where a
    pg_trgm GIN index on the bare column serves it (Django's `icontains` compares UPPER(col), which
    such an index cannot serve); LIKE elsewhere (SQLite's LIKE ignores ASCII case)."""

    lookup_name = "finder_ilike"

    def process_rhs(self, compiler, connection):
        sql, params = super().process_rhs(compiler, connection)
        escaped = ["%" + str(p).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for p in params]
        return sql, escaped

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        keyword = str(self.rhs)
        # Case folding only matters for letters; LIKE on Chinese text costs half of ILIKE.
        operator = "ILIKE" if connection.vendor == "postgresql" and keyword.lower() != keyword.upper() else "LIKE"
        if connection.vendor == "postgresql" and len(keyword) < TRIGRAM_MIN:
            # A keyword of one or two characters holds no trigram (the trigram index would be read
            # whole); it is itself one of the column's grams, which a GIN index over
            # `finder_grams(lower(col))` looks up (migration 0007). ILIKE/LIKE still decides:
            # ILIKE matches exactly where lower(col) holds lower(keyword), so the index loses none.
            # LIKE first: where the planner scans rather than reads the index, most rows fail it
            # before finder_grams is computed.
            return (
                f"({lhs} {operator} {rhs} ESCAPE '\\' AND finder_grams(lower({lhs})) @> ARRAY[lower(%s)]::text[])",
                [*lhs_params, *rhs_params, *lhs_params, keyword],
            )
        return f"{lhs} {operator} {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]


class InArray(Func):
    """`col = ANY(ARRAY(subquery))` on PostgreSQL (`col IN (subquery)` elsewhere).

    The subquery runs once, first (an init plan), and the column's own index looks its values up,
    so the condition can be one arm of a BitmapOr beside other indexed conditions; `IN (subquery)`
    cannot, and makes the planner test every resident of the scope instead."""

    output_field = BooleanField()

    def __init__(self, column: str, queryset: QuerySet) -> None:
        super().__init__(F(column), Subquery(queryset))

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        subquery, subquery_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            return f"{column} = ANY(ARRAY{subquery})", [*column_params, *subquery_params]
        return f"{column} IN {subquery}", [*column_params, *subquery_params]


# --- Tags -------------------------------------------------------------------------------------------


class TagIdsMatch(Func):
    """`resident.tag_ids && ARRAY[…]` (any of the tags) or `@>` (all of them), PostgreSQL only.

    `residents_resident.tag_ids` is a copy of the resident's rows in `residents_residenttag`, kept
    by triggers (migration 0007), with a GIN index over active residents; it is not a model field,
    so the column is reached through the resident's primary key (whatever alias the query gives
    the table, e.g. inside a subquery)."""

    output_field = BooleanField()

    def __init__(self, tag_ids: tuple[int, ...], *, every: bool) -> None:
        super().__init__(F("pk"))
        self.tag_ids = [int(pk) for pk in tag_ids]
        self.every = every

    def as_sql(self, compiler, connection, **extra):
        pk_sql, params = compiler.compile(self.source_expressions[0])
        table, _dot, _column = pk_sql.rpartition(".")
        operator = "@>" if self.every else "&&"
        return f'{table}."tag_ids" {operator} %s::integer[]', [*params, self.tag_ids]


# --- Has an open petition ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenPetitionContacts:
    """What open petitions in a scope point at, as two one-column subqueries: the address keys of
    their houses and the blind indexes of their contact phones."""

    address_keys: QuerySet
    phone_hashes: QuerySet


# Petitions live in `appeals`, above `residents`: the appeals app plugs its source in at start-up
# (appeals/apps.py), so this module never imports it. Without a source the condition is not offered.
_open_petition_source: Callable[[Scope], OpenPetitionContacts] | None = None


def register_open_petition_source(source: Callable[[Scope], OpenPetitionContacts] | None) -> None:
    global _open_petition_source
    _open_petition_source = source


def open_petition_condition_available() -> bool:
    return _open_petition_source is not None


def open_petition_condition(scope: Scope) -> Q:
    """Residents with an open petition: a petition not yet resolved, closed or merged, visible in the
    reader's scope, whose address is the resident's house (the same address key petitions are
    routed by) or whose contact phone is the resident's phone (compared by its blind index: the
    phone itself is stored encrypted).

    Both sides are index lookups the planner can OR together, each an array its init plan reads
    once from the open petitions (their covering index): the residents of the petitions' houses
    (the houses by their unique address key, then the residents' house index) and those with a
    petition's phone digest (the blind index). The petitions are read by the same statement as
    the residents, not first in Python."""
    if _open_petition_source is None:
        return Q(pk__in=[])
    contacts = _open_petition_source(scope)
    houses = House.objects.filter(InArray("address_key", contacts.address_keys)).values("pk")
    return Q(InArray("house_id", houses)) | (Q(InArray("phone_hash", contacts.phone_hashes)) & ~Q(phone_hash=""))


# --- The query --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinderQuery:
    age_min: int | None = None
    age_max: int | None = None
    gender: str = ""
    tags: tuple[int, ...] = ()
    tag_mode: str = TAG_ANY
    registration: str = ""
    area_id: int | None = None
    house_uses: tuple[str, ...] = ()
    living_alone: bool = False
    open_petition: bool = False
    not_contacted_since: dt.date | None = None
    keyword: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    CONDITION_KEYS = (
        "age_min",
        "age_max",
        "gender",
        "tags",
        "tag_mode",
        "registration",
        "area",
        "house_use",
        "living_alone",
        "open_petition",
        "not_contacted_since",
        "q",
    )

    @classmethod
    def from_cleaned(cls, data: dict[str, Any]) -> FinderQuery:
        """From the finder form's cleaned_data (residents.finder_forms.FinderForm)."""
        area = data.get("area")
        return cls(
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            gender=data.get("gender") or "",
            tags=tuple(sorted({int(getattr(tag, "pk", tag)) for tag in data.get("tags") or ()})),
            tag_mode=data.get("tag_mode") or TAG_ANY,
            registration=data.get("registration") or "",
            area_id=area.pk if area is not None else None,
            house_uses=tuple(sorted(data.get("house_use") or ())),
            living_alone=bool(data.get("living_alone")),
            open_petition=bool(data.get("open_petition")),
            not_contacted_since=data.get("not_contacted_since"),
            keyword=(data.get("q") or "").strip(),
        )

    def to_conditions(self) -> dict[str, Any]:
        """The form's query parameters as JSON (a policy's `conditions`); empty values left out."""
        values: dict[str, Any] = {
            "age_min": self.age_min,
            "age_max": self.age_max,
            "gender": self.gender,
            "tags": list(self.tags),
            "tag_mode": self.tag_mode if self.tags else "",
            "registration": self.registration,
            "area": self.area_id,
            "house_use": list(self.house_uses),
            "living_alone": self.living_alone,
            "open_petition": self.open_petition,
            "not_contacted_since": self.not_contacted_since.isoformat() if self.not_contacted_since else None,
            "q": self.keyword,
        }
        return {key: value for key, value in values.items() if value not in (None, "", [], False)}

    @property
    def is_empty(self) -> bool:
        return not self.to_conditions()

    def without_area(self) -> FinderQuery:
        return replace(self, area_id=None)


def conditions_as_query_data(conditions: dict[str, Any]) -> dict[str, Any]:
    """A policy's conditions as form data (lists stay lists), to re-run them through the form."""
    return {key: value for key, value in conditions.items() if key in FinderQuery.CONDITION_KEYS}


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def today() -> dt.date:
    return timezone.localdate()


def area_condition(area: Area) -> Q:
    """Records located in `area`: its level column where records keep one, else its path prefix."""
    field_name = LEVEL_FIELDS.get(area.level)
    if field_name is not None:
        return Q(**{field_name: area.pk})
    return Q(**{f"{LEVEL_PATH_FIELD}__startswith": area.path})


def residents_in_scope(user: Any) -> QuerySet[Resident]:
    """Active residents the reader may view (moved-away and deceased residents are history)."""
    return records_visible_to(user, Resident.objects.filter(status=ResidentStatus.ACTIVE))


def finder_residents(
    user: Any, query: FinderQuery, *, policy: Policy | None = None, on: dt.date | None = None
) -> QuerySet[Resident]:
    """The residents matching `query` that `user` may see (inside `policy`'s area when given)."""
    scope = scope_for(user)
    queryset = residents_in_scope(user)
    if policy is not None:
        queryset = queryset.filter(area_condition(policy.area))
    area = policy.area if policy is not None else None
    if query.area_id is not None:
        area = Area.objects.filter(pk=query.area_id).only("id", "level", "path").first()
        if area is None or not scope.sees_area(area):
            return queryset.none()
        queryset = queryset.filter(area_condition(area))
    day = on or today()
    if query.age_min is not None:
        queryset = queryset.filter(birth_date__lte=years_before(day, query.age_min))
    if query.age_max is not None:
        queryset = queryset.filter(birth_date__gt=years_before(day, query.age_max + 1))
    if query.gender:
        queryset = queryset.filter(gender=query.gender)
    if query.registration:
        queryset = queryset.filter(registration=query.registration)
    if query.living_alone:
        queryset = queryset.filter(living_alone=True)
    if query.house_uses:
        # Houses of those uses in the same areas first (few), then their residents by house.
        queryset = queryset.filter(
            InArray("house_id", _houses(user, area).filter(use__in=query.house_uses).values("pk"))
        )
    if query.tags and connections[queryset.db].vendor == "postgresql":
        queryset = queryset.filter(TagIdsMatch(query.tags, every=query.tag_mode == TAG_ALL))
    elif query.tags:
        if query.tag_mode == TAG_ALL:
            for tag_id in query.tags:
                queryset = queryset.filter(Exists(ResidentTag.objects.filter(resident=OuterRef("pk"), tag_id=tag_id)))
        else:
            queryset = queryset.filter(
                Exists(ResidentTag.objects.filter(resident=OuterRef("pk"), tag_id__in=query.tags))
            )
    if query.open_petition:
        queryset = queryset.filter(open_petition_condition(scope))
    if query.not_contacted_since is not None:
        since = timezone.make_aware(dt.datetime.combine(query.not_contacted_since, dt.time.min))
        queryset = queryset.exclude(
            Exists(PolicyContact.objects.filter(resident=OuterRef("pk"), contacted_at__gte=since))
        )
    if query.keyword:
        keyword = query.keyword[:KEYWORD_MAX]
        # The address side is the houses' ids first (an array the residents' house index looks up),
        # so all three sides are index lookups ORed together; `notes <> ''` reaches the partial index.
        houses = _houses(user, area).filter(address__finder_ilike=keyword).values("pk")
        queryset = queryset.filter(
            Q(name__finder_ilike=keyword)
            | (Q(notes__finder_ilike=keyword) & ~Q(notes=""))
            | Q(InArray("house_id", houses))
        )
    return queryset


def found_by_lookup_lists(query: FinderQuery) -> bool:
    """Whether the query's matches come from lists of index lookups ORed together (the open
    petitions' houses and phones; a keyword's names, notes and addresses): a pass over them costs
    the same whatever is asked of it, and no index hands them over in the list's id order."""
    return query.open_petition or bool(query.keyword)


# --- The finder's statements, kept ------------------------------------------------------------------
# The count is asked on every change of a condition and the list on every search; building the
# finder's queryset and compiling it cost ~1.3 ms of a request whose statement may take 2, and the
# list's page of rows through model instances ~3 ms more. A statement is the same text and
# parameters for as long as its inputs are: the reader's scope (posts), the conditions, the day
# (ages and minors are dates) and the page. The finder keeps each statement per those inputs for
# KEPT_SECONDS (an area that moves, a post that ends, is seen within that time) and sends it again;
# the residents are read afresh every time, only the statement's text is kept.
KEPT_STATEMENTS = 1024
KEPT_SECONDS = 30.0
_kept: dict[tuple, tuple[float, str, str | None, tuple]] = {}


def _kept_statement(key: tuple) -> tuple[str, str | None, tuple] | None:
    """(alias, sql, params) kept for `key` and still fresh; sql is None for a statement that matches
    nobody by construction (an area outside the scope, an empty scope)."""
    kept = _kept.get(key)
    if kept is None or time.monotonic() - kept[0] >= KEPT_SECONDS:
        return None
    return kept[1], kept[2], kept[3]


def _keep_statement(key: tuple, alias: str, sql: str | None, params: tuple) -> None:
    if len(_kept) >= KEPT_STATEMENTS:
        _kept.clear()
    _kept[key] = (time.monotonic(), alias, sql, params)


def finder_residents_count(user: Any, query: FinderQuery) -> int:
    """How many residents `finder_residents(user, query)` finds, by its kept statement."""
    day = today()
    key = ("count", scope_for(user), query, day)
    kept = _kept_statement(key)
    if kept is not None:
        alias, sql, params = kept
        if sql is None:
            return 0
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    residents = finder_residents(user, query, on=day)
    sent: list[tuple[str, tuple]] = []

    def capture(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connections[residents.db].execute_wrapper(capture):
        count = residents.count()
    if len(sent) <= 1:
        sql, params = sent[0] if sent else (None, ())
        _keep_statement(key, residents.db, sql, params)
    return count


def finder_statements_clear() -> None:
    _kept.clear()


# --- A page of the list -----------------------------------------------------------------------------
# What a row of the list reads: what it shows, and what residents.policy decides revealing by (the
# level columns, the path, the birth date).
PAGE_COLUMNS = (
    "pk",
    "name",
    "gender",
    "birth_date",
    "phone",
    "registration",
    "living_alone",
    "notes",
    "microgrid_id",
    "grid_id",
    "community_id",
    "street_id",
    "area_path",
    "house_id",
    "house__address",
)


@dataclass
class FoundResident:
    """One resident of a finder page, read as values (no model instance): what the list shows and
    what residents.policy decides revealing by. It stands for a Resident wherever a record is
    asked about (`_meta`: the access policy's minor rule, the access log's model label)."""

    _meta: ClassVar = Resident._meta
    pk: int
    name: str
    gender: str
    birth_date: dt.date | None
    phone: str
    registration: str
    living_alone: bool
    notes: str
    microgrid_id: int | None
    grid_id: int | None
    community_id: int | None
    street_id: int | None
    area_path: str
    house_id: int | None
    address: str
    tags: list[str] = field(default_factory=list)


def _page_queryset(residents: QuerySet[Resident]) -> QuerySet:
    """The page's columns as values, with the resident's copy of its tag ids on PostgreSQL."""
    rows = residents.order_by("pk")
    if connections[rows.db].vendor == "postgresql":
        rows = rows.annotate(found_tag_ids=RawSQL('"residents_resident"."tag_ids"', ()))
        return rows.values_list(*PAGE_COLUMNS, "found_tag_ids")
    return rows.values_list(*PAGE_COLUMNS)


def _compiled(queryset: QuerySet) -> tuple[str | None, tuple]:
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None, ()
    return sql, tuple(params)


def _page_statement(residents: QuerySet[Resident], start: int, size: int) -> tuple[str, str | None, tuple]:
    """(alias, sql, params) of `size` of `residents` from `start` in id order: the page's ids in a
    subquery (the planner may answer it from an index alone: over a district the matches of a
    house condition are thousands of rows sorted for 20), then those rows."""
    page_ids = residents.order_by("pk").values("pk")[start : start + size]
    return (residents.db, *_compiled(_page_queryset(Resident.objects.using(residents.db).filter(pk__in=page_ids))))


def _found(alias: str, sql: str | None, params: tuple) -> list[FoundResident]:
    """The page's rows: the statement sent as it is, the phone decrypted as the model field does,
    the tags named from the per-process copy (residents.finder_cache)."""
    if sql is None:
        return []
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    phone = Resident._meta.get_field("phone")
    found = []
    for row in rows:
        resident = FoundResident(*row[: len(PAGE_COLUMNS)])
        resident.phone = phone.from_db_value(resident.phone, None, connection)
        found.append(resident)
    if connection.vendor == "postgresql":
        for resident, row in zip(found, rows, strict=True):
            resident.tags = tag_names(row[-1] or ())
    elif found:
        tag_ids: dict[int, list[int]] = {}
        links = ResidentTag.objects.using(alias).filter(resident_id__in=[r.pk for r in found])
        for resident_id, tag_id in links.values_list("resident_id", "tag_id"):
            tag_ids.setdefault(resident_id, []).append(tag_id)
        for resident in found:
            resident.tags = tag_names(tag_ids.get(resident.pk, ()))
    return found


def finder_page(user: Any, query: FinderQuery, start: int, size: int) -> list[FoundResident]:
    """`size` residents of `finder_residents(user, query)` from `start`, in id order, by a kept
    statement (`_page_statement`)."""
    day = today()
    key = ("page", scope_for(user), query, day, start, size)
    kept = _kept_statement(key)
    if kept is None:
        kept = _page_statement(finder_residents(user, query, on=day), start, size)
        _keep_statement(key, *kept)
    return _found(*kept)


def count_and_page_ids(user: Any, query: FinderQuery, start: int, size: int) -> tuple[int, list[int]]:
    """How many residents `finder_residents(user, query)` finds and the ids of `size` of them from
    `start` in id order, in one pass (PostgreSQL), by a kept statement: `COUNT(*)` and the sorted
    ids' slice of one aggregate over the same rows, where a count and a page would each find them
    again. Every matching id is sorted, so this is for queries that match few
    (`found_by_lookup_lists`)."""
    day = today()
    key = ("count+ids", scope_for(user), query, day, start, size)
    kept = _kept_statement(key)
    if kept is None:
        residents = finder_residents(user, query, on=day)
        inner, params = _compiled(residents.order_by().values("pk"))
        sql = None
        if inner is not None:
            sql = f"SELECT COUNT(*), (ARRAY_AGG(matching.id ORDER BY matching.id))[%s:%s] FROM ({inner}) matching(id)"
            params = (start + 1, start + size, *params)
        kept = (residents.db, sql, params)
        _keep_statement(key, *kept)
    alias, sql, params = kept
    if sql is None:
        return 0, []
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        count, ids = cursor.fetchone()
    return count, list(ids or [])


def page_of(residents: QuerySet[Resident], start: int, size: int) -> list[FoundResident]:
    """`size` of `residents` from `start` in id order (a statement compiled for this request: the
    saved policy's tabs)."""
    return _found(*_page_statement(residents, start, size))


def finder_page_of_ids(ids: list[int], *, using: str = "default") -> list[FoundResident]:
    """The residents of these ids (a page already found, `count_and_page_ids`), in id order. The
    statement's text depends only on how many ids there are: kept per that number."""
    if not ids:
        return []
    key = ("ids", using, len(ids))
    kept = _kept_statement(key)
    if kept is None:
        sql, params = _compiled(_page_queryset(Resident.objects.using(using).filter(pk__in=ids)))
        if sql is not None and params == tuple(ids):  # the ids are the statement's only parameters
            _keep_statement(key, using, sql, ())
        return _found(using, sql, params)
    return _found(kept[0], kept[1], tuple(ids))


def _houses(user: Any, area: Area | None) -> QuerySet[House]:
    """The houses of the reader's areas (and of `area`), for conditions on houses: a subquery
    that the houses' own level-column index narrows before any resident is read."""
    houses = records_visible_to(user, House.objects.all())
    return houses.filter(area_condition(area)) if area is not None else houses


def policy_left(queryset: QuerySet[Resident], policy: Policy) -> QuerySet[Resident]:
    """Those of `queryset` nobody has contacted about `policy` yet."""
    return queryset.exclude(Exists(PolicyContact.objects.filter(policy=policy, resident=OuterRef("pk"))))


def policy_contacted(queryset: QuerySet[Resident], policy: Policy) -> QuerySet[Resident]:
    return queryset.filter(Exists(PolicyContact.objects.filter(policy=policy, resident=OuterRef("pk"))))


# --- Who may use the finder and see what -----------------------------------------------------------
# The records' one rule (residents.policy): who sees a resident at all (minors only for a community
# secretary or higher) and who may see one unmasked (the grid and community staff who call on
# residents). The finder shows names and phones masked unless such a reader asks to reveal them;
# every row then shown in full is access-logged by the page.


def finder_allowed(user: Any) -> bool:
    """Staff who may view records (grid worker and up, administrators); not departments or residents."""
    scope = scope_for(user)
    return scope.sees_all or scope.has_role(*VIEW_ROLES)


def reveals(user: Any, resident: Resident) -> bool:
    """Whether `user` may see this resident's name, phone and ID number unmasked."""
    return record_access(user, resident).view_unmasked


# --- Policies ----------------------------------------------------------------------------------------


def _ancestor_paths(path: str) -> list[str]:
    parts = [part for part in path.split("/") if part]
    return ["".join(f"{part}/" for part in parts[: i + 1]) for i in range(len(parts))]


def policies_visible_to(user: Any) -> QuerySet[Policy]:
    """Policies made inside the reader's subtree, and those made above it for it (a street's
    policy is worked by each of its communities)."""
    scope = scope_for(user)
    queryset = Policy.objects.select_related("area", "created_by")
    if scope.sees_all:
        return queryset
    if not scope.area_paths:
        return queryset.none()
    above = sorted({ancestor for path in scope.area_paths for ancestor in _ancestor_paths(path)})
    condition = Q(area_path__in=above)
    for path in scope.area_paths:
        condition |= Q(area_path__startswith=path)
    return queryset.filter(condition)


def policy_get_for_user(user: Any, policy_id: int) -> Policy:
    """One policy the reader may see; missing and out of scope both raise Http404."""
    from django.http import Http404

    try:
        return policies_visible_to(user).get(pk=policy_id)
    except Policy.DoesNotExist:
        raise Http404 from None


def policy_query(policy: Policy) -> FinderQuery:
    """The saved conditions as a FinderQuery (ids and values as stored)."""
    c = policy.conditions or {}
    since = c.get("not_contacted_since")
    return FinderQuery(
        age_min=c.get("age_min"),
        age_max=c.get("age_max"),
        gender=c.get("gender", ""),
        tags=tuple(c.get("tags", ())),
        tag_mode=c.get("tag_mode") or TAG_ANY,
        registration=c.get("registration", ""),
        area_id=c.get("area"),
        house_uses=tuple(c.get("house_use", ())),
        living_alone=bool(c.get("living_alone")),
        open_petition=bool(c.get("open_petition")),
        not_contacted_since=dt.date.fromisoformat(since) if since else None,
        keyword=c.get("q", ""),
    )


def policy_residents(user: Any, policy: Policy) -> QuerySet[Resident]:
    return finder_residents(user, policy_query(policy), policy=policy)


def policy_contacts_visible(user: Any, policy: Policy) -> QuerySet[PolicyContact]:
    """The policy's contacts with residents `user` may see: a policy saved for a community reaches
    every grid of it, and each reader sees only the contacts inside their own areas."""
    return policy.contacts.filter(resident__in=_visible_resident_ids(user))


def contacts_visible_condition(user: Any) -> Q:
    """For annotating policies (`Count("contacts", filter=…)`): their contacts `user` may see."""
    return Q(contacts__resident__in=_visible_resident_ids(user))


def _visible_resident_ids(user: Any) -> QuerySet:
    return records_visible_to(user, Resident.objects.all()).values("pk")


def resident_contacts(user: Any, resident: Resident) -> QuerySet[PolicyContact]:
    """A resident's contact history, newest first, over the policies the reader may see."""
    visible = policies_visible_to(user).values("pk")
    return (
        PolicyContact.objects.filter(resident=resident, policy__in=visible)
        .select_related("policy", "contacted_by")
        .order_by("-contacted_at", "-id")
    )


def describe_query(query: FinderQuery) -> list[str]:
    """The conditions in words, one phrase each, for the policy page and the export's title."""
    from django.utils.translation import gettext as _

    from residents.models import Gender, HouseUse, Registration

    parts: list[str] = []
    if query.age_min is not None and query.age_max is not None:
        parts.append(_("aged %(low)d to %(high)d") % {"low": query.age_min, "high": query.age_max})
    elif query.age_min is not None:
        parts.append(_("aged %(low)d or over") % {"low": query.age_min})
    elif query.age_max is not None:
        parts.append(_("aged %(high)d or under") % {"high": query.age_max})
    if query.gender:
        parts.append(str(Gender(query.gender).label))
    if query.tags:
        from residents.finder_cache import tag_names

        names = "、".join(tag_names(query.tags))
        template = _("all of the tags: %(tags)s") if query.tag_mode == TAG_ALL else _("any of the tags: %(tags)s")
        parts.append(template % {"tags": names})
    if query.registration:
        parts.append(str(Registration(query.registration).label))
    if query.area_id is not None:
        area = Area.objects.filter(pk=query.area_id).values_list("name", flat=True).first()
        if area:
            parts.append(_("in %(area)s") % {"area": area})
    if query.house_uses:
        parts.append(_("house use: %(uses)s") % {"uses": "、".join(str(HouseUse(u).label) for u in query.house_uses)})
    if query.living_alone:
        parts.append(_("living alone"))
    if query.open_petition:
        parts.append(_("with an open petition"))
    if query.not_contacted_since is not None:
        parts.append(_("not contacted since %(day)s") % {"day": query.not_contacted_since.isoformat()})
    if query.keyword:
        parts.append(_("matching “%(q)s”") % {"q": query.keyword})
    return parts
