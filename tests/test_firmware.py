"""Firmware updates (L01-L04) end to end: the simulator downloads the file from Home Assistant's own HTTP server.

Real Home Assistant, its HTTP app on a real port, the project's simulator as the station: it fetches the firmware
at the URL Home Assistant made for it, checks the signature, reports every status, reboots into the new version.
"""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
import probatio
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ocpp_csms import firmware_updates
from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.firmware_updates import firmware_issue_id

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .management import device_id, hass_config_dir, serve_http, sign, signing_certificate, states_of
from .station_peer import StationPeer, station_connection
from .test_simulator import fast_config, sent, simulated

__all__ = ["hass_config_dir"]  # the fixture: a config folder of each test's own

UPDATE = "update.sim_001_firmware"
STATUS = "sensor.sim_001_firmware_status"


def firmware_file(hass: HomeAssistant, name: str, version: str) -> tuple[str, bytes]:
    """A firmware image the simulator understands, below the config folder; its relative path and content."""
    content = f"SIMFW {version}\n".encode() + bytes(range(256)) * 40
    path = Path(hass.config.path("firmware", name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return f"firmware/{name}", content


def write(hass: HomeAssistant, relative: str, text: str) -> None:
    """A file below the config folder."""
    path = Path(hass.config.path(relative))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def ready(hass: HomeAssistant, entry: Any, station: Any) -> str:
    """The simulator is online and its inventory read; its device id."""
    await wait_for(station.online.is_set)
    await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].has_inventory)
    await hass.async_block_till_done()
    return device_id(hass, entry, "sim-001")


async def test_l01_a_signed_firmware_from_the_config_folder_is_downloaded_verified_and_installed(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client_no_auth: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    client = await serve_http(hass, hass_client_no_auth)
    relative, content = firmware_file(hass, "sim-2.0.0.bin", "2.0.0")
    key, certificate = signing_certificate()
    seen: list[dict[str, Any]] = []
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        await states_of(hass, UPDATE, seen)
        assert hass.states.get(UPDATE).state == "off"  # type: ignore[union-attr]
        assert hass.states.get(UPDATE).attributes["installed_version"] == "1.0.0"  # type: ignore[union-attr]
        assert hass.states.get(STATUS).state == "idle"  # type: ignore[union-attr]

        response = await hass.services.async_call(
            DOMAIN,
            "update_firmware",
            {
                "device_id": device,
                "file": relative,
                "version": "2.0.0",
                "signing_certificate": certificate,
                "signature": sign(key, content),
                "retries": 2,
            },
            blocking=True,
            return_response=True,
        )
        assert response is not None
        assert response["status"] == "Accepted"
        request_id = response["request_id"]
        [request] = station.firmware_requests
        assert request["request_id"] == request_id
        assert request["location"].startswith(str(client.make_url("/api/ocpp_csms/firmware/")))
        assert request["signing_certificate"] == certificate  # L01.FR.11

        # The station downloads the very file, checks the signature and reboots into 2.0.0 (L01.FR.32 a).
        await wait_for(lambda: hass.states.get(STATUS).state == "installed", timeout=20)  # type: ignore[union-attr]
        assert station.firmware_downloads == [content]
        await wait_for(lambda: len(sent(station, "FirmwareStatusNotification")) == 6)
        notifications = sent(station, "FirmwareStatusNotification")
        assert [item.status for item in notifications] == [
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "InstallRebooting",
            "Installed",
        ]
        assert {item.request_id for item in notifications} == {request_id}  # L01.FR.10
        await wait_for(lambda: "FirmwareUpdated" in [e.type for e in sent(station, "SecurityEventNotification")])

        # The update entity followed: in progress with a growing percentage, then the new version installed.
        progress = [state["update_percentage"] for state in seen if state.get("in_progress")]
        assert progress == sorted(progress)
        assert {10, 40, 80} <= set(progress)
        await wait_for(lambda: hass.states.get(UPDATE).attributes["installed_version"] == "2.0.0")  # type: ignore[union-attr]
        state = hass.states.get(UPDATE)
        assert state is not None
        assert (state.state, state.attributes["in_progress"]) == ("off", False)
        assert state.attributes["latest_version"] == "2.0.0"  # the offer is done
        # A new firmware: the inventory is read again (B07 after a firmware change).
        await wait_for(lambda: station.stats.received["GetBaseReport"] == 2)
        assert entry.runtime_data.firmware.offer("sim-001") is None

        # The URL served the update only: it is gone now.
        assert (await client.get(request["location"].removeprefix(str(client.make_url(""))))).status == 404


async def test_l01_an_invalid_signature_is_not_installed_and_opens_a_repair(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    await serve_http(hass, hass_client_no_auth)
    relative, content = firmware_file(hass, "sim-3.bin", "3.0.0")
    _key, certificate = signing_certificate()
    other_key, _other = signing_certificate()
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        await hass.services.async_call(
            DOMAIN,
            "update_firmware",
            {
                "device_id": device,
                "file": relative,
                "signing_certificate": certificate,
                "signature": sign(other_key, content),
            },
            blocking=True,
        )
        await wait_for(lambda: hass.states.get(STATUS).state == "invalidsignature")  # type: ignore[union-attr]
        issue = ir.async_get(hass).async_get_issue(DOMAIN, firmware_issue_id("sim-001"))
        assert issue is not None
        assert issue.translation_placeholders == {"station": "sim-001", "status": "InvalidSignature"}
        assert "security event InvalidFirmwareSignature" in caplog.text
        await wait_for(
            lambda: "InvalidFirmwareSignature" in [e.type for e in sent(station, "SecurityEventNotification")]
        )
        assert station.firmware_version == "1.0.0"
        state = hass.states.get(UPDATE)
        assert state is not None
        assert (state.state, state.attributes["in_progress"], state.attributes["latest_version"]) == (
            "on",
            False,
            "sim-3.bin",
        )

        # A new update clears the repair; the entity's install sends the offered firmware again.
        key, certificate = signing_certificate()
        await hass.services.async_call(
            DOMAIN,
            "update_firmware",
            {
                "device_id": device,
                "file": relative,
                "signing_certificate": certificate,
                "signature": sign(key, content),
                "install": False,
            },
            blocking=True,
        )
        await hass.services.async_call("update", "install", {"entity_id": UPDATE}, blocking=True)
        assert ir.async_get(hass).async_get_issue(DOMAIN, firmware_issue_id("sim-001")) is None
        await wait_for(lambda: station.firmware_version == "3.0.0", timeout=20)


async def test_l01_the_firmware_url_answers_404_to_wrong_and_expired_tokens_and_serves_nothing_else(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    client = await serve_http(hass, hass_client_no_auth)
    relative, _content = firmware_file(hass, "sim-4.bin", "4.0.0")
    write(hass, "secrets.yaml", "password: hunter2\n")
    for wrong in ("nothing", "a" * 43, "../../secrets.yaml"):
        assert (await client.get(f"/api/ocpp_csms/firmware/{wrong}")).status == 404
    traversal = await client.get("/api/ocpp_csms/firmware/..%2F..%2Fsecrets.yaml")
    assert traversal.status == 400  # Home Assistant's own security filter, before any view
    assert "hunter2" not in await traversal.text()
    monkeypatch.setattr(firmware_updates, "FIRMWARE_URL_LIFETIME", -timedelta(seconds=1))  # expired when made
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        await hass.services.async_call(
            DOMAIN, "update_firmware", {"device_id": device, "file": relative, "retries": 1}, blocking=True
        )
        await wait_for(lambda: hass.states.get(STATUS).state == "downloadfailed")  # type: ignore[union-attr]
        assert station.firmware_downloads == []
        await wait_for(lambda: len(sent(station, "FirmwareStatusNotification")) == 3)
        assert [item.status for item in sent(station, "FirmwareStatusNotification")] == [
            "Downloading",
            "Downloading",  # one retry (L01.FR.30: DownloadFailed after all retries)
            "DownloadFailed",
        ]
        issue = ir.async_get(hass).async_get_issue(DOMAIN, firmware_issue_id("sim-001"))
        assert issue is not None
        assert issue.translation_placeholders["status"] == "DownloadFailed"


async def test_files_that_are_never_served(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client_no_auth: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    await serve_http(hass, hass_client_no_auth)
    write(hass, ".storage/core.config", "{}")
    write(hass, "secrets.yaml", "password: hunter2\n")
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        cases = {
            "../outside.bin": "firmware_file_outside",
            "/etc/hostname": "firmware_file_outside",
            ".storage/core.config": "firmware_file_not_allowed",
            "secrets.yaml": "firmware_file_not_allowed",
            "ocpp_csms/logs": "firmware_file_not_allowed",
            "firmware/none.bin": "firmware_file_missing",
        }
        for file, key in cases.items():
            with pytest.raises(ServiceValidationError) as raised:
                await hass.services.async_call(
                    DOMAIN, "update_firmware", {"device_id": device, "file": file}, blocking=True
                )
            assert raised.value.translation_key == key, file
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(DOMAIN, "update_firmware", {"device_id": device}, blocking=True)
        assert raised.value.translation_key == "firmware_required"
        with pytest.raises(HomeAssistantError):  # nothing offered: no update
            await hass.services.async_call("update", "install", {"entity_id": UPDATE}, blocking=True)
        with pytest.raises(ServiceValidationError) as raised:
            await entry.runtime_data.firmware.async_install("sim-001")
        assert raised.value.translation_key == "no_firmware_offered"
        assert station.firmware_requests == []


async def test_a_firmware_elsewhere_a_refused_certificate_and_protocols_the_station_lacks(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    config = fast_config(ws_url(entry), variables={"OCPPCommCtrlr.FileTransferProtocols": "HTTPS,FTPS"})
    async with simulated(config) as station:
        device = await ready(hass, entry, station)
        # Home Assistant knows no URL of its own (no internal URL, no HTTP server address): no file can be served.
        firmware_file(hass, "sim-5.bin", "5.0.0")
        hass.config.api = None
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(
                DOMAIN, "update_firmware", {"device_id": device, "file": "firmware/sim-5.bin"}, blocking=True
            )
        assert raised.value.translation_key == "no_home_assistant_url"
        # The station downloads with HTTPS and FTPS only (FileTransferProtocols).
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(
                DOMAIN, "update_firmware", {"device_id": device, "url": "http://example.com/fw.bin"}, blocking=True
            )
        assert raised.value.translation_key == "transfer_protocol_unsupported"
        assert raised.value.translation_placeholders == {
            "station": "sim-001",
            "protocol": "HTTP",
            "supported": "HTTPS, FTPS",
        }
        # L01.FR.22: a signing certificate that is none is refused by the station.
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN,
                "update_firmware",
                {"device_id": device, "url": "https://example.com/fw-6.bin", "signing_certificate": "not a PEM"},
                blocking=True,
            )
        assert refused.value.translation_key == "command_refused"
        assert refused.value.translation_placeholders["status"] == "InvalidCertificate"  # type: ignore[index]
        state = hass.states.get(UPDATE)
        assert state is not None
        assert state.attributes["latest_version"] == "fw-6.bin"


class FirmwarePeer(StationPeer):
    """A station that refuses firmware updates, and reports an update Home Assistant did not start."""

    @on(Action.update_firmware)
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_kwargs: Any) -> Any:
        """Refuse."""
        self.received.put_nowait(("UpdateFirmware", {"request_id": request_id, **firmware}))
        return call_result.UpdateFirmware(status="Rejected")


async def test_a_refused_update_and_updates_reported_without_being_asked(
    hass: HomeAssistant, setup_integration: SetupIntegration, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=FirmwarePeer) as station:
        await station.boot()
        await hass.async_block_till_done()
        device = device_id(hass, entry, "CP-1")
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN, "update_firmware", {"device_id": device, "url": "https://example.com/fw.bin"}, blocking=True
            )
        assert refused.value.translation_placeholders == {
            "station": "CP-1",
            "command": "UpdateFirmware",
            "status": "Rejected",
        }
        firmware = entry.runtime_data.firmware
        assert firmware.update("CP-1") is None
        # An update started before Home Assistant restarted is taken up from its statuses; Idle says nothing.
        await station.call(call.FirmwareStatusNotification(status="Idle"), suppress=False)
        assert firmware.update("CP-1") is None
        await station.call(call.FirmwareStatusNotification(status="Installing", request_id=41), suppress=False)
        update = firmware.update("CP-1")
        assert update is not None
        assert (update.request_id, update.in_progress) == (41, True)
        await station.call(call.FirmwareStatusNotification(status="Installed", request_id=41), suppress=False)
        assert firmware.update("CP-1").installed  # type: ignore[union-attr]
        assert firmware.offer("CP-1") is None  # installed: most likely what was offered (an offer must not linger)
        # L03: a local controller's publishing status is acknowledged.
        await station.call(
            call.PublishFirmwareStatusNotification(status="Published", location=["http://lc/fw"], request_id=3),
            suppress=False,
        )
        assert "firmware publishing status Published" in caplog.text
        assert firmware.diagnostics("CP-1")["update"]["status"] == "Installed"  # type: ignore[index]

    # Forgetting the station forgets its offer.
    firmware.forget_station("CP-1")
    assert firmware.offer("CP-1") is None


async def test_diagnostics_show_the_firmware_offer_without_its_credentials(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        with pytest.raises(probatio.Invalid):
            await hass.services.async_call(
                DOMAIN, "update_firmware", {"device_id": device, "url": "file:///etc/passwd"}, blocking=True
            )
        response = await hass.services.async_call(
            DOMAIN,
            "update_firmware",
            {"device_id": device, "url": "ftp://maker:s3cr3t-pw@ftp.example.com/fw-7.bin", "install": False},
            blocking=True,
            return_response=True,
        )
        assert response == {"status": "Offered", "version": "fw-7.bin"}
        assert station.firmware_requests == []
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    management = diagnostics["stations"]["sim-001"]["management"]
    assert management["offer"]["version"] == "fw-7.bin"
    assert management["offer"]["url"] == "**REDACTED**"
    assert management["display"]["formats"] == ["ASCII", "UTF8"]
    assert management["monitoring_level"] == 9
    assert "s3cr3t" not in json.dumps(diagnostics)


async def test_l01_fr_24_a_new_update_cancels_the_one_waiting_to_install(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client_no_auth: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    client = await serve_http(hass, hass_client_no_auth)
    first, _content = firmware_file(hass, "sim-8.bin", "8.0.0")
    second, _content = firmware_file(hass, "sim-9.bin", "9.0.0")
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        later = {"device_id": device, "file": first, "install_at": "2099-01-01T00:00:00+00:00"}
        await hass.services.async_call(DOMAIN, "update_firmware", later, blocking=True)
        await wait_for(lambda: hass.states.get(STATUS).state == "installscheduled")  # type: ignore[union-attr]
        state = hass.states.get(UPDATE)
        assert state is not None
        assert (state.attributes["in_progress"], state.attributes["update_percentage"]) == (True, 55)
        first_url = station.firmware_requests[0]["location"].removeprefix(str(client.make_url("")))
        assert (await client.get(first_url)).status == 404  # downloaded: its URL is withdrawn
        response = await hass.services.async_call(
            DOMAIN, "update_firmware", {"device_id": device, "file": second}, blocking=True, return_response=True
        )
        assert response is not None
        assert response["status"] == "AcceptedCanceled"
        await wait_for(lambda: station.firmware_version == "9.0.0", timeout=20)
        second_url = station.firmware_requests[1]["location"].removeprefix(str(client.make_url("")))
        entry.runtime_data.firmware.forget_station("sim-001")
        assert (await client.get(second_url)).status == 404
