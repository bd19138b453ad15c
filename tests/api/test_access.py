"""Named keys and roles, the audit log, security headers, and /health with refused
credentials (a real influxd with authentication on)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api.main import create_app
from sensors.apikeys import ApiKeysError, parse_key_list
from sensors.settings import Settings
from smartplace.servers import InfluxServer, free_port
from tests.api.helpers import api_client

pytestmark = pytest.mark.anyio

KEYS = "wall:viewer:viewer-secret-1,duty:operator:operator-secret-1,root:admin:admin-secret-1"


def _settings(**values: Any) -> Settings:
    defaults: dict[str, Any] = {"influx_url": f"http://127.0.0.1:{free_port()}",
                                "rollup_interval_s": 0}
    return Settings(_env_file=None, **{**defaults, **values})


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_key_entries_are_bare_or_named() -> None:
    keys = parse_key_list("plain-key, duty:operator:s3cret:with:colons ,")
    assert [(k.name, k.role, k.secret.get_secret_value()) for k in keys] == [
        ("key-1", "viewer", "plain-key"), ("duty", "operator", "s3cret:with:colons")]
    assert keys[1].allows("viewer")
    assert keys[1].allows("operator")
    assert not keys[1].allows("admin")


@pytest.mark.parametrize(("key", "me", "keys_code", "backfill_code"), [
    ("viewer-secret-1", "wall", 403, 403),
    ("operator-secret-1", "duty", 403, 503),  # allowed; InfluxDB is not running here
    ("admin-secret-1", "root", 200, 503),
])
async def test_roles(key: str, me: str, keys_code: int, backfill_code: int) -> None:
    async with api_client(create_app(_settings(api_keys=KEYS))) as client:
        who = await client.get("/api/v1/auth/me", headers=_bearer(key))
        listed = await client.get("/api/v1/auth/keys", headers=_bearer(key))
        backfill = await client.post("/api/v1/rollups/backfill", headers=_bearer(key), params={
            "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"})
        wrong = await client.get("/api/v1/auth/me", headers=_bearer("nope"))
        too_long = await client.post("/api/v1/rollups/backfill", headers=_bearer(key), params={
            "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:01Z"})
    assert who.json()["name"] == me
    # Past 31 days a backfill is refused (422, naming the limit) before InfluxDB is asked.
    if backfill_code == 503:
        assert too_long.status_code == 422
        assert "at most 31 days" in too_long.text
    assert (listed.status_code, backfill.status_code, wrong.status_code) == (
        keys_code, backfill_code, 401)
    if keys_code == 200:
        assert listed.json()["keys"] == [{"name": "wall", "role": "viewer"},
                                         {"name": "duty", "role": "operator"},
                                         {"name": "root", "role": "admin"}]
        assert "secret" not in listed.text
    if keys_code == 403:
        assert "role admin" in listed.json()["detail"]


async def test_keys_file_and_the_audit_log_name_the_key_never_show_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [
        {"name": "ops-desk", "role": "operator", "key": "file-secret-123"}]}))
    app = create_app(_settings(api_keys_file=path))
    caplog.set_level(logging.INFO, logger="smartplace.audit")
    async with api_client(app) as client:
        refused = await client.get("/api/v1/auth/keys", headers=_bearer("file-secret-123"))
    assert refused.status_code == 403
    assert "ops-desk" in caplog.text
    assert "file-secret-123" not in caplog.text


def test_a_bad_keys_file_stops_the_app_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"keys": [{"name": "x", "role": "boss", "key": "longenough"}]}')
    with pytest.raises(ApiKeysError, match="SMARTPLACE_API_KEYS_FILE"):
        create_app(_settings(api_keys_file=path))
    with pytest.raises(ApiKeysError, match="unique"):
        create_app(_settings(api_keys=SecretStr("a:viewer:k1,a:admin:k2")))


async def test_an_open_api_acts_as_anonymous_admin() -> None:
    async with api_client(create_app(_settings())) as client:
        who = await client.get("/api/v1/auth/me")
    assert who.json() == {"name": "anonymous", "role": "admin"}


async def test_every_answer_carries_the_security_headers() -> None:
    async with api_client(create_app(_settings(api_keys=KEYS))) as client:
        answers = [await client.get(path) for path in (
            "/", "/api/v1/factors", "/docs", "/openapi.json")]
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    page_policy = answers[0].headers["Content-Security-Policy"]
    assert "script-src 'self';" in page_policy
    assert "unsafe-inline" not in page_policy
    assert answers[1].status_code == 401
    # /docs and /openapi.json describe the API and need no key; every route still does.
    assert (answers[2].status_code, answers[3].status_code) == (200, 200)


@pytest.mark.integration
async def test_health_is_degraded_when_influxdb_refuses_the_credentials(
        tmp_path: Path) -> None:
    locked = InfluxServer(tmp_path / "influx", auth_enabled=True)
    locked.start()
    try:
        httpx.post(f"{locked.url}/query", timeout=10, data={
            "q": "CREATE USER admin WITH PASSWORD 'right' WITH ALL PRIVILEGES"}
        ).raise_for_status()
        for password, status in (("right", "ok"), ("wrong", "degraded")):
            settings = _settings(influx_url=locked.url, influx_username="admin",
                                 influx_password=SecretStr(password))
            async with api_client(create_app(settings)) as client:
                body = (await client.get("/health")).json()
                data = await client.get("/api/v1/sensors")
            assert body["status"] == status
            assert body["influxdb"]["authenticated"] is (status == "ok")
            if status == "degraded":
                assert "SMARTPLACE_INFLUX_USERNAME" in body["influxdb"]["error"]
                assert data.status_code == 503
                assert "credentials" in data.json()["detail"]
    finally:
        locked.stop()
