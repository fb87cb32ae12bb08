"""schemathesis over the published OpenAPI schema (/api/schema/), against the WSGI app, as two roles.

Every operation gets generated requests (valid and invalid); each answer must not be a server
error, must conform to the schema (status code documented, body valid, content type), must
refuse invalid data and must accept valid data where schemathesis can tell. Path parameters are
drawn from the seeded world (a petition inside the persona's area, one outside, and whatever
schemathesis makes up) so the actions reach the services, not only the 404.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from tests.security.conftest import World

# Dates the API takes: filters refuse moments outside 2000-01-01..2100-01-01 (governance.inputs),
# as the parameters' descriptions say; "valid" date-times are drawn from that window.
schemathesis.openapi.format(
    "date-time",
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)).map(
        lambda moment: moment.isoformat()
    ),
)

# Per operation, mode and role: about 30 operations × 2 modes × 2 roles ≈ 1,200 cases per run.
MAX_EXAMPLES = int(os.environ.get("SECURITY_MAX_EXAMPLES", 10))
ROLES = ("grid_worker", "street_command")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# ignored_auth re-sends the case without its generated credentials and expects 401/403, but the
# persona's session travels in the call's cookies: anonymous access is the permission matrix's job.
EXCLUDED_CHECKS = [checks.ignored_auth]
EXCLUDED_PER_OPERATION = {
    # schemathesis sends a `format: binary` field as a plain form field, not a file part, so the
    # "valid" upload has no file; tests/appeals/test_hotline_import.py posts real files.
    "POST /api/v1/hotline/import/": [checks.positive_data_acceptance],
}


@pytest.fixture(params=ROLES)
def api_schema(request, world: World):
    role = request.param
    client = Client()
    client.force_login(world.users[role])
    csrf = secrets.token_hex(16)
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
    # The WSGI handler closes "old" connections around each request, which would close the test's
    # transaction; Django's test client disconnects the same receiver.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request.addfinalizer(lambda: request_started.connect(close_old_connections))
    request.addfinalizer(lambda: request_finished.connect(close_old_connections))
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    # NUL bytes have their own tests (tests/security/test_nul_bytes.py); credentials are the persona's.
    schema.config.generation.update(allow_x00=False, with_security_parameters=False)
    tracking_numbers = [world.inside.tracking_no, world.outside.tracking_no]
    area_codes = ["DS0C0G0", "DS0C0G0M0", "DS1C1G1", "D"]

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:
            return st.just(path_parameters)
        if "tracking_no" in path_parameters:
            return st.sampled_from([*tracking_numbers, path_parameters["tracking_no"]]).map(
                lambda value: {**path_parameters, "tracking_no": value}
            )
        if "code" in path_parameters:
            return st.sampled_from([*area_codes, path_parameters["code"]]).map(
                lambda value: {**path_parameters, "code": value}
            )
        return st.just(path_parameters)

    # Session authentication as the persona; DRF checks CSRF on writes, so send the token pair.
    schema.call_kwargs = {"headers": {"X-CSRFToken": csrf}, "cookies": cookies}
    schema.role = role
    return schema


def _references(world: World) -> dict[str, list]:
    """Values that name existing rows: the schema can only say "a string", the server looks them up."""
    departments = [world.department.code, world.other_department.code]
    return {
        "department": departments,
        "lead_department": departments,
        "assisting_departments": [[], [world.other_department.code]],
        "area": ["DS0C0G0", "DS0C0G0M1", "DS0C1G1"],
        "reported_area": ["DS0C0G0", "DS0C0G0M0"],  # inside both personas' areas
        "category": [world.category.code],
        "into": [world.inside.tracking_no, world.outside.tracking_no],
        "channel": ["staff", "patrol"],
        "contact_phone": ["13800138000", ""],
        "new_deadline": [(timezone.now() + timedelta(days=60)).isoformat()],
    }


def _run(operation, mode: GenerationMode, call_kwargs: dict, references: dict[str, list]) -> tuple[int, str | None]:
    """Generated cases of one operation in one mode: (cases run, the first failure or None)."""
    calls = 0

    # Bodies as JSON, the API's documented encoding, where the operation takes it: form encodings
    # cannot say null, so a valid JSON body sent as a form would be (rightly) refused.
    media_types = [alternative.media_type for alternative in operation.body]
    media_type = "application/json" if "application/json" in media_types else None
    excluded = EXCLUDED_CHECKS + EXCLUDED_PER_OPERATION.get(operation.label, [])

    @given(case=operation.as_strategy(generation_mode=mode, media_type=media_type), data=st.data())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        # No shrinking: the first failing case is reported as generated, and the run stays bounded.
        phases=(Phase.explicit, Phase.generate),
    )
    def run(case, data) -> None:
        nonlocal calls
        calls += 1
        if media_type is not None:
            case.media_type = media_type
        if mode is GenerationMode.POSITIVE and isinstance(case.body, dict):
            # Valid data names existing rows; invalid data (negative mode) stays as generated.
            for name, values in references.items():
                if name in case.body:
                    # A petition merges into another one, never into itself.
                    choices = [value for value in values if value != (case.path_parameters or {}).get("tracking_no")]
                    case.body[name] = data.draw(st.sampled_from(choices))
            if (case.body.get("lon") is None) != (case.body.get("lat") is None):  # the schema cannot say
                case.body.pop("lon", None)  # "both or neither"
                case.body.pop("lat", None)
        # A savepoint per case, as each real request has its own transaction: one failed statement
        # must not poison the cases after it.
        with transaction.atomic():
            case.call_and_validate(excluded_checks=excluded, **call_kwargs)

    try:
        run()
    except Unsatisfiable:  # nothing invalid to generate (e.g. a string path parameter only)
        return calls, None
    except (Exception, BaseExceptionGroup) as error:  # a FailureGroup of schemathesis checks, or an app error
        return calls, f"{operation.label} [{mode.value}]: {error}"
    return calls, None


@pytest.mark.postgres
@pytest.mark.redis
def test_every_operation_conforms_to_its_schema(api_schema, world):
    failures = []
    total = 0
    idle: list[str] = []
    references = _references(world)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 30, "the schema lost operations"
    for operation in operations:
        for mode in MODES:
            calls, failure = _run(operation, mode, api_schema.call_kwargs, references)
            total += calls
            if mode is GenerationMode.POSITIVE and calls == 0:
                idle.append(operation.label)
            if failure:
                failures.append(failure)
    print(f"schemathesis: {total} cases over {len(operations)} operations as {api_schema.role}")
    assert not idle, f"operations that ran no case: {idle}"
    assert not failures, "\n\n".join(failures)
