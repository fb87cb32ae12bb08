"""404 when no URL matches: JSON for API and Open311 clients, the HTML page for people."""

from __future__ import annotations


def test_an_unknown_api_url_answers_the_api_error_body(client, db):
    response = client.get("/api/v1/hotline/imports/not-a-number/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_an_unknown_open311_url_answers_georeport_errors(client, db):
    response = client.get("/open311/v2/nothing-here.json")

    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


def test_an_unknown_page_answers_html(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
