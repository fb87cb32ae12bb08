"""Derive the history rows of existing petitions from their timelines.

Events get the deadline in force and after each step and whether the step was on time; each
petition gets its handling rounds (with the acceptance the old `accepted_at` lost at every
escalation and reopening) and its ratings table (the earlier ratings the petition row cleared on
reopening survive in the events' JSON). Deadlines are recomputed with the time limits in force at
each clock's start and the petition's category and urgency; `appeals.history.replay` is the same
derivation the demo uses.
"""

from django.db import migrations
from django.db.models import F

BATCH = 500


def _limit_versions(TimeLimit):
    from appeals.services.deadlines import Limit, TierLimits

    versions = {}
    for row in TimeLimit.objects.order_by("effective_from", "pk"):
        limits = TierLimits(Limit(row.accept_amount, row.accept_unit), Limit(row.handle_amount, row.handle_unit))
        versions.setdefault((row.category_id, row.handling_mode, row.tier), []).append((row.effective_from, limits))
    return versions


def _deadline_for(versions, petition):
    from appeals.services.deadlines import DEFAULT_LIMITS, EMERGENCY_LIMITS
    from governance.workcalendar import deadline_after

    def limits_at(tier, mode, at):
        if petition.urgency == "emergency":
            return EMERGENCY_LIMITS
        for key in ((petition.category_id, mode, tier), (petition.category_id, "", tier), (None, mode, tier), (None, "", tier)):
            found = None
            for effective_from, limits in versions.get(key, ()):
                if effective_from > at:
                    break
                found = limits
            if found is not None:
                return found
        return DEFAULT_LIMITS[tier]

    def deadline_for(phase, tier, mode, at):
        limits = limits_at(tier, mode, at)
        limit = limits.accept if phase == "accept" else limits.handle
        return deadline_after(at, limit.amount, limit.unit)

    return deadline_for


def forwards(apps, schema_editor):
    from appeals.history import replay

    Petition = apps.get_model("appeals", "Petition")
    PetitionEvent = apps.get_model("appeals", "PetitionEvent")
    HandlingRound = apps.get_model("appeals", "HandlingRound")
    PetitionRating = apps.get_model("appeals", "PetitionRating")
    ExtensionRequest = apps.get_model("appeals", "ExtensionRequest")
    TimeLimit = apps.get_model("appeals", "TimeLimit")
    Area = apps.get_model("grids", "Area")

    # Repeat links were written without a from-status; the event constraint wants the status kept.
    PetitionEvent.objects.filter(type="repeat_linked", from_status="").update(from_status=F("to_status"))
    areas = dict(Area.objects.values_list("code", "pk"))
    versions = _limit_versions(TimeLimit)
    ids = list(Petition.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        petitions = list(Petition.objects.filter(pk__in=chunk).order_by("pk"))
        events = {}
        for event in PetitionEvent.objects.filter(petition_id__in=chunk).order_by("created_at", "id"):
            events.setdefault(event.petition_id, []).append(event)
        requests = {}
        for request in ExtensionRequest.objects.filter(petition_id__in=chunk):
            requests.setdefault(request.petition_id, []).append(request)
        changed_events, rounds, ratings, changed_requests = [], [], [], []
        for petition in petitions:
            timeline = events.get(petition.pk, [])
            granted = {r.pk: r.new_deadline for r in requests.get(petition.pk, []) if r.status == "granted"}
            mode = "fast" if petition.handling_mode == "joint" else petition.handling_mode
            result = replay(timeline, deadline_for=_deadline_for(versions, petition), mode=mode, extensions=granted)
            changed_events += timeline
            for r in result.rounds:
                rounds.append(
                    HandlingRound(
                        petition_id=petition.pk,
                        number=r.number,
                        tier=r.tier,
                        handler_area_id=areas.get(r.handler_area_code),
                        started_at=r.started_at,
                        start_event=r.start_event,
                        accept_due_at=r.accept_due_at,
                        accepted_at=r.accepted_at,
                        responded_at=r.responded_at,
                        handle_due_at=r.handle_due_at,
                        resolved_at=r.resolved_at,
                        ended_at=r.ended_at,
                        end_event=r.end_event,
                    )
                )
            for r in result.ratings:
                ratings.append(
                    PetitionRating(
                        petition_id=petition.pk,
                        round_number=r.round_number,
                        rating=r.rating,
                        source=r.source,
                        rated_at=r.rated_at,
                        is_latest=r.is_latest,
                    )
                )
            asked = {e.extra.get("request_id"): e.deadline_in_force for e in timeline if e.type == "extension_asked"}
            for request in requests.get(petition.pk, []):
                if request.old_deadline is None and asked.get(request.pk):
                    request.old_deadline = asked[request.pk]
                    changed_requests.append(request)
            petition.round_count = len(result.rounds)
            first_accept = next((r.accepted_at for r in result.rounds if r.accepted_at), None)
            petition.accepted_at = petition.accepted_at or first_accept
        _update_events(schema_editor, PetitionEvent, changed_events)
        HandlingRound.objects.bulk_create(rounds, 1000)
        PetitionRating.objects.bulk_create(ratings, 1000)
        ExtensionRequest.objects.bulk_update(changed_requests, ["old_deadline"], 1000)
        _update_petitions(schema_editor, Petition, petitions)


def _update_events(schema_editor, PetitionEvent, events):
    """One UPDATE … FROM (VALUES …) per thousand rows on PostgreSQL (bulk_update's CASE is slow)."""
    if schema_editor.connection.vendor != "postgresql":
        PetitionEvent.objects.bulk_update(events, ["deadline_in_force", "deadline_after", "on_time"], 1000)
        return
    with schema_editor.connection.cursor() as cursor:
        for start in range(0, len(events), 1000):
            chunk = events[start : start + 1000]
            rows = ", ".join(["(%s, %s::timestamptz, %s::timestamptz, %s::boolean)"] * len(chunk))
            params = [v for e in chunk for v in (e.pk, e.deadline_in_force, e.deadline_after, e.on_time)]
            cursor.execute(
                "UPDATE appeals_petitionevent AS e SET deadline_in_force = v.due, deadline_after = v.after, "
                f"on_time = v.on_time FROM (VALUES {rows}) AS v(id, due, after, on_time) WHERE e.id = v.id",
                params,
            )


def _update_petitions(schema_editor, Petition, petitions):
    if schema_editor.connection.vendor != "postgresql":
        Petition.objects.bulk_update(petitions, ["round_count", "accepted_at"], 1000)
        return
    with schema_editor.connection.cursor() as cursor:
        rows = ", ".join(["(%s, %s::smallint, %s::timestamptz)"] * len(petitions))
        params = [v for p in petitions for v in (p.pk, p.round_count, p.accepted_at)]
        cursor.execute(
            "UPDATE appeals_petition AS p SET round_count = v.rounds, accepted_at = v.accepted_at "
            f"FROM (VALUES {rows}) AS v(id, rounds, accepted_at) WHERE p.id = v.id",
            params,
        )


def backwards(apps, schema_editor):
    apps.get_model("appeals", "HandlingRound").objects.all().delete()
    apps.get_model("appeals", "PetitionRating").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0012_history_rounds_ratings_deadlines"),
        ("governance", "0005_calendar_day_history"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
