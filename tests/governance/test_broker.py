"""The Redis broker transport (governance/broker.py): kombu's, publishing through one kept client."""

from __future__ import annotations

import json

import pytest
import redis

from governance import broker
from governance.celery import app as celery_app
from tests.redis_server import reset_connections

pytestmark = [pytest.mark.redis]


def queued_tasks(server) -> list[tuple[str, list]]:
    messages = [json.loads(raw) for raw in redis.Redis(port=server.port).lrange("celery", 0, -1)]
    return sorted((message["headers"]["task"], message["headers"]["argsrepr"]) for message in messages)


def test_it_is_the_broker_transport_when_the_broker_is_redis():
    assert celery_app.conf.broker_transport == "governance.broker:Transport"


def test_every_publish_goes_through_the_same_client_and_arrives(own_redis):
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        given = object()
        with channel.conn_or_acquire(given) as client:
            assert client is given  # a caller's own client (a pipeline) is used as it is
    for petition_id in (1, 2, 3):
        celery_app.send_task("appeals.route_petition", args=(petition_id,))
    assert queued_tasks(own_redis) == [("appeals.route_petition", f"({n},)") for n in (1, 2, 3)]


def test_publishing_resumes_after_redis_restarts(own_redis):
    celery_app.send_task("appeals.route_petition", args=(1,))
    own_redis.stop()
    with pytest.raises(Exception):  # noqa: B017 (kombu's or redis-py's connection error)
        celery_app.send_task("appeals.route_petition", args=(2,))
    own_redis.start()  # empty: it keeps nothing on disk
    # The kept client's pool reconnects by itself; no pool is reset here.
    celery_app.send_task("appeals.route_petition", args=(3,))
    assert queued_tasks(own_redis) == [("appeals.route_petition", "(3,)")]


def test_a_closed_channel_forgets_its_client(own_redis):
    with celery_app.connection_for_write() as connection:
        channel = connection.channel()
        with channel.conn_or_acquire() as client:
            assert client.ping()
        channel.close()
        assert channel._kept_client is None
    reset_connections()
