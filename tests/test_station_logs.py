"""Log retrieval (N01) end to end: the station uploads its log to Home Assistant's own HTTP server.

The simulator really uploads (PUT, or POST as multipart form data) to the one-time URL of GetLog; the log is kept
below the config folder and downloadable by administrators, with a signed link from the action's response.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import os
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.ocpp_csms import file_transfer
from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.file_transfer import UploadRefusedError, station_dir_name

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .management import device_id, hass_config_dir, serve_http
from .station_peer import StationPeer, station_connection
from .test_simulator import fast_config, sent, simulated

__all__ = ["hass_config_dir"]  # the fixture: a config folder of each test's own


@pytest.fixture
def tokens(hass_access_token: str, hass_read_only_access_token: str) -> tuple[str, str]:
    """An administrator's access token and a read-only user's."""
    return hass_access_token, hass_read_only_access_token


def read(hass: HomeAssistant, relative: str) -> bytes:
    """A file below the config folder."""
    return Path(hass.config.path(relative)).read_bytes()


def stored_logs(hass: HomeAssistant, station_id: str) -> list[str]:
    """The names of a station's stored logs."""
    directory = Path(hass.config.path("ocpp_csms", "logs", station_dir_name(station_id)))
    return sorted(path.name for path in directory.iterdir()) if directory.is_dir() else []


async def ready(hass: HomeAssistant, entry: Any, station: Any) -> str:
    await wait_for(station.online.is_set)
    await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].has_inventory)
    await hass.async_block_till_done()
    return device_id(hass, entry, "sim-001")


async def test_n01_a_log_uploaded_with_put_is_stored_and_downloadable_by_an_administrator(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    hass_client_no_auth: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    tokens: tuple[str, str],
) -> None:
    admin_token, reader_token = tokens
    assert await async_setup_component(hass, "persistent_notification", {})
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    websocket = await hass_ws_client(hass)  # before the HTTP app is frozen by its server
    reader = await hass_ws_client(hass, reader_token)
    anonymous = await serve_http(hass, hass_client_no_auth)
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        await websocket.send_json_auto_id(
            {
                "type": "call_service",
                "domain": DOMAIN,
                "service": "get_log",
                "service_data": {"device_id": device, "log_type": "diagnostics", "timeout": 20},
                "return_response": True,
            }
        )
        answer = await websocket.receive_json()
        assert answer["success"], answer
        response = answer["result"]["response"]
        [request] = station.log_requests
        assert request["log_type"] == "DiagnosticsLog"
        assert request["remote_location"].startswith(str(anonymous.make_url("/api/ocpp_csms/upload/")))
        assert response["request_id"] == request["request_id"]
        assert response["station_filename"].startswith("sim-001-DiagnosticsLog-")
        [uploaded] = station.uploaded_logs
        assert b"BootNotification ok" in uploaded
        assert response["size"] == len(uploaded)
        assert read(hass, response["path"]) == uploaded
        await wait_for(lambda: len(sent(station, "LogStatusNotification")) == 2)
        assert [(item.status, item.request_id) for item in sent(station, "LogStatusNotification")] == [
            ("Uploading", request["request_id"]),
            ("Uploaded", request["request_id"]),
        ]  # N01.FR.07-09

        # The link in the response works without logging in (signed for the administrator who asked).
        assert "authSig=" in response["url"]
        download = await anonymous.get(response["url"])
        assert download.status == 200
        assert await download.read() == uploaded
        assert "attachment" in download.headers["Content-Disposition"]
        # Unsigned, the log is for administrators only.
        path = response["url"].split("?")[0]
        assert (await anonymous.get(path)).status == 401
        as_reader = {"Authorization": f"Bearer {reader_token}"}
        assert (await anonymous.get(path, headers=as_reader)).status == 401
        as_admin = {"Authorization": f"Bearer {admin_token}"}
        assert await (await anonymous.get(path, headers=as_admin)).read() == uploaded
        folder = path.rsplit("/", 1)[0]
        assert (await anonymous.get(f"{folder}/nothing.log", headers=as_admin)).status == 404
        assert (await anonymous.get(f"{folder}/.hidden", headers=as_admin)).status == 404

        # A notification says where it is.
        await websocket.send_json_auto_id({"type": "persistent_notification/get"})
        notifications = (await websocket.receive_json())["result"]
        [notification] = [item for item in notifications if item["notification_id"] == "ocpp_csms_log_sim-001"]
        assert "authSig=" in notification["message"]

        # The upload URL was for one upload.
        again = await anonymous.put(request["remote_location"].removeprefix(str(anonymous.make_url(""))), data=b"x")
        assert again.status == 404

        # Only administrators may have logs uploaded.
        await reader.send_json_auto_id(
            {"type": "call_service", "domain": DOMAIN, "service": "get_log", "service_data": {"device_id": device}}
        )
        refused = await reader.receive_json()
        assert not refused["success"]
        assert refused["error"] == {"code": "home_assistant_error", "message": "Unauthorized"}


async def test_n01_a_security_log_posted_as_multipart_form_data(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client_no_auth: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    await serve_http(hass, hass_client_no_auth)
    async with simulated(fast_config(ws_url(entry), log_upload_method="POST")) as station:
        device = await ready(hass, entry, station)
        response = await hass.services.async_call(
            DOMAIN,
            "get_log",
            {"device_id": device, "log_type": "security", "oldest": "2020-01-01T00:00:00+00:00", "timeout": 20},
            blocking=True,
            return_response=True,
        )
        assert response is not None
        [request] = station.log_requests
        assert (request["log_type"], request["oldest_timestamp"]) == ("SecurityLog", "2020-01-01T00:00:00Z")
        # N01.FR.19: the file name of the multipart part names the stored log.
        assert response["filename"].endswith(response["station_filename"])
        [uploaded] = station.uploaded_logs
        assert b"BootNotification" not in uploaded  # the security log: security events only
        assert read(hass, response["path"]) == uploaded
        # Without an administrator behind the call, the response gives the plain path.
        assert response["url"].startswith("/api/ocpp_csms/logs/")
        assert "authSig" not in response["url"]


async def test_n01_an_oversized_log_is_refused_and_not_kept(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(file_transfer, "MAX_LOG_BYTES", 1000)
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    client = await serve_http(hass, hass_client_no_auth)
    async with simulated(fast_config(ws_url(entry), log_min_bytes=5000)) as station:
        device = await ready(hass, entry, station)
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, "get_log", {"device_id": device, "timeout": 20}, blocking=True)
        assert raised.value.translation_key == "log_too_large"
        assert raised.value.translation_placeholders == {"station": "sim-001", "bytes": "1000"}
        assert station.uploaded_logs == []
        await wait_for(
            lambda: [item.status for item in sent(station, "LogStatusNotification")][-1:] == ["UploadFailure"]
        )
    assert stored_logs(hass, "sim-001") == []

    # Streamed without a Content-Length, the body is cut off at the limit too.
    files = entry.runtime_data.files

    async def body() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"#" * 600

    url, stored, _withdraw = files.expect_upload("sim-001", 90, timedelta(minutes=1))
    answer = await client.put(url.removeprefix(str(client.make_url(""))), data=body())
    assert answer.status == 413
    with pytest.raises(UploadRefusedError):
        await stored
    assert stored_logs(hass, "sim-001") == []


async def test_n01_upload_urls_are_one_time_expiring_and_need_a_file(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client_no_auth: ClientSessionGenerator
) -> None:
    entry = await setup_integration()
    client = await serve_http(hass, hass_client_no_auth)
    files = entry.runtime_data.files
    base = str(client.make_url(""))
    assert (await client.put("/api/ocpp_csms/upload/guessed", data=b"log")).status == 404

    expired, _stored, _withdraw = files.expect_upload("CP-1", 1, -timedelta(seconds=1))
    assert (await client.put(expired.removeprefix(base), data=b"log")).status == 404

    no_file, stored, _withdraw = files.expect_upload("CP-1", 2, timedelta(minutes=1))
    form = b'--XX\r\nContent-Disposition: form-data; name="comment"\r\n\r\nno file here\r\n--XX--\r\n'
    answer = await client.post(
        no_file.removeprefix(base), data=form, headers={"Content-Type": "multipart/form-data; boundary=XX"}
    )
    assert answer.status == 400
    with pytest.raises(UploadRefusedError) as refused:
        await stored
    assert refused.value.reason == "no_file"

    plain, stored, _withdraw = files.expect_upload("CP-1", 3, timedelta(minutes=1))
    assert (await client.post(plain.removeprefix(base), data=b"a plain body")).status == 201
    log = await stored
    assert (log.size, log.request_id) == (12, 3)
    assert (await client.post(plain.removeprefix(base), data=b"again")).status == 404

    withdrawn, stored, withdraw = files.expect_upload("CP-1", 4, timedelta(minutes=1))
    withdraw()
    assert stored.cancelled()
    assert (await client.put(withdrawn.removeprefix(base), data=b"log")).status == 404
    await files.async_remove_station_logs("CP-1")
    assert stored_logs(hass, "CP-1") == []


def test_logs_are_pruned_to_the_newest_ten_of_the_last_thirty_days(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    now = datetime(2026, 11, 21, tzinfo=UTC)
    for number in range(13):
        path = folder / f"log-{number:02}"
        path.write_text("x")
        age = timedelta(days=40) if number == 12 else timedelta(hours=number)
        stamp = (now - age).timestamp()
        os.utime(path, (stamp, stamp))
    (folder / ".log-99.part").write_text("being written")
    file_transfer._prune(folder, now)
    assert sorted(path.name for path in folder.iterdir()) == [
        ".log-99.part",
        *(f"log-{number:02}" for number in range(10)),
    ]


class LogPeer(StationPeer):
    """A station that refuses logs, or accepts and then fails or never uploads, as told."""

    log_answer = "Accepted"
    log_result: str | None = "PermissionDenied"

    @on(Action.get_log)
    def on_get_log(self, request_id: int, log_type: str, log: dict[str, Any], **_kwargs: Any) -> Any:
        """Answer as told."""
        self.received.put_nowait(("GetLog", {"request_id": request_id, "log_type": log_type, **log}))
        return call_result.GetLog(status=self.log_answer, filename="station.log")

    @after(Action.get_log)
    async def after_get_log(self, request_id: int, **_kwargs: Any) -> None:
        """Report the outcome without uploading anything."""
        result = self.log_result
        if self.log_answer == "Accepted" and result is not None:
            await self.call(call.LogStatusNotification(status="Uploading", request_id=request_id))
            await self.call(call.LogStatusNotification(status=result, request_id=request_id))


async def test_n01_refused_failed_and_missing_uploads_are_translated_errors(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client_no_auth: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    await serve_http(hass, hass_client_no_auth)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=LogPeer) as station:
        await station.boot()
        await hass.async_block_till_done()
        device = device_id(hass, entry, "CP-1")
        assert isinstance(station, LogPeer)
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, "get_log", {"device_id": device}, blocking=True)
        assert raised.value.translation_key == "log_upload_failed"
        assert raised.value.translation_placeholders == {"station": "CP-1", "status": "PermissionDenied"}

        station.log_result = "Uploaded"  # ... says the station, which uploaded nothing
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, "get_log", {"device_id": device}, blocking=True)
        assert raised.value.translation_key == "log_not_received"

        station.log_answer = "Rejected"  # N01.FR.05
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, "get_log", {"device_id": device}, blocking=True)
        assert raised.value.translation_placeholders == {"station": "CP-1", "command": "GetLog", "status": "Rejected"}

        station.log_answer, station.log_result = "Accepted", None
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, "get_log", {"device_id": device, "timeout": 1}, blocking=True)
        assert raised.value.translation_key == "log_timeout"

        # Statuses of uploads nobody waits for are only recorded.
        await station.call(call.LogStatusNotification(status="Idle"), suppress=False)
        await station.call(call.LogStatusNotification(status="Uploaded", request_id=999), suppress=False)
        assert entry.runtime_data.logs.last_status["CP-1"] == "Uploaded"


async def test_n01_a_station_that_cannot_upload_with_home_assistant_s_protocol(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client_no_auth: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    await serve_http(hass, hass_client_no_auth)
    config = fast_config(ws_url(entry), variables={"OCPPCommCtrlr.FileTransferProtocols": "FTP,FTPS"})
    async with simulated(config) as station:
        device = await ready(hass, entry, station)
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(DOMAIN, "get_log", {"device_id": device}, blocking=True)
        assert raised.value.translation_key == "transfer_protocol_unsupported"
        assert station.log_requests == []
