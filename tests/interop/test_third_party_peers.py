"""Third-party OCPP 2.0.1 stations against the integration in a real Home Assistant.

Each peer is tools/interop/peer.mjs on a third-party library's client, RPC layer and schema validation (ocpp-ws-io,
ocpp-rpc), started as a Node subprocess. Each goes through the same scenario, driven from Home Assistant as a
person would: it connects and boots, is approved (pre-trusted with its password, or discovered and approved in the
discovery flow), its inventory is read (or, for the peer that has none, its EVSEs come from what it reports), a
remote start makes it charge with its energy counted, a limit set on the *Charging current limit* number reaches it
and its power follows, a remote stop ends the session, and a reset reboots it, after which it is back in Home
Assistant. No message in either direction may break the OCPP 2.0.1 schemas: the peer's library checks every message
it receives and sends (strict mode), the integration counts what it had to repair, and every frame is checked again
against the `ocpp` package's copy of the official schemas. Skipped, with the reason, where Node or the peers'
packages are missing (`scripts/setup --interop` installs them; `scripts/interop` runs these tests alone).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import json
import os
from pathlib import Path
import sys
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import device_identifier

from ..conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .node_peer import Frame, FrameRecorder, NodePeer, node_peer, recording, unavailable_reason

UNAVAILABLE = unavailable_reason()
needs_peers = pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or "")

#: Seconds between the peers' meter values (their meters run 600 times faster than the clock).
METER_INTERVAL = 0.3
VOLTAGE = 230
PHASES = 3


@dataclass(frozen=True)
class PeerCase:
    """One third-party peer and how it differs from the others."""

    library: str
    personality: str
    station_id: str
    evses: int
    reports_device_model: bool
    #: "trusted": stored with its password before it connects; "discovered": approved in the discovery flow.
    approval: str
    #: The CALLERRORs the peer may answer our CALLs with (its library's answer for an action it does not serve).
    expected_errors: tuple[tuple[str, str], ...] = ()
    #: Reset "on idle" while it charges (answered Scheduled; it reboots once stopped), rather than after the stop.
    reset_while_charging: bool = False

    def __str__(self) -> str:
        """The test id."""
        return self.library


CASES = [
    PeerCase(
        "ocpp-ws-io",
        "wallbox",
        "wsio-wallbox",
        evses=1,
        reports_device_model=True,
        approval="trusted",
        # Its device model has no LocalAuthListCtrlr: unknown, so asked once (D02, changes nothing); it has none.
        expected_errors=(("GetLocalListVersion", "NotImplemented"),),
    ),
    PeerCase(
        "ocpp-rpc",
        "twin",
        "rpc-twin",
        evses=2,
        reports_device_model=False,
        approval="discovered",
        expected_errors=(("GetBaseReport", "NotImplemented"),),
        reset_while_charging=True,
    ),
]


class Entities:
    """A station's entities, found by unique id."""

    def __init__(self, hass: HomeAssistant, entry_id: str, station_id: str) -> None:
        """Look up in the registries of `hass`."""
        self.hass = hass
        self.entry_id = entry_id
        self.station_id = station_id

    def entity_id(self, platform: str, key: str, evse_id: int = 0) -> str:
        """The entity id of the station's (EVSE 0) or an EVSE's entity of that key."""
        unique_id = f"{self.station_id}_evse_{evse_id}_{key}" if evse_id else f"{self.station_id}_{key}"
        entity_id = er.async_get(self.hass).async_get_entity_id(platform, DOMAIN, unique_id)
        assert entity_id is not None, f"no {platform} entity {unique_id}"
        return entity_id

    def state(self, platform: str, key: str, evse_id: int = 0) -> str:
        """Its state."""
        state = self.hass.states.get(self.entity_id(platform, key, evse_id))
        assert state is not None
        return state.state

    def number(self, platform: str, key: str, evse_id: int = 0) -> float | None:
        """Its state as a number (None when it is none: unknown, unavailable)."""
        try:
            return float(self.state(platform, key, evse_id))
        except ValueError:
            return None

    def attributes(self, platform: str, key: str, evse_id: int = 0) -> dict[str, Any]:
        """Its attributes."""
        state = self.hass.states.get(self.entity_id(platform, key, evse_id))
        assert state is not None
        return dict(state.attributes)

    def device_id(self, evse_id: int = 0) -> str:
        """The device id of the station (EVSE 0) or of an EVSE."""
        identifier = device_identifier(self.station_id, evse_id)
        device = dr.async_get(self.hass).async_get_device_by_identifier(identifier, self.entry_id)
        assert device is not None, f"no device for {self.station_id} EVSE {evse_id}"
        return device.id


def transaction_events(peer: NodePeer, event_type: str) -> list[dict[str, Any]]:
    """The TransactionEvents of a type the peer sent and we answered."""
    return [
        e["payload"] for e in peer.of("call_out", action="TransactionEvent") if e["payload"]["eventType"] == event_type
    ]


def register_wh(payload: dict[str, Any]) -> float:
    """The energy register of a TransactionEvent's meter value, in Wh, whatever unit the peer used."""
    for sampled in payload["meterValue"][0]["sampledValue"]:
        if sampled["measurand"] == "Energy.Active.Import.Register":
            unit = sampled.get("unitOfMeasure", {}).get("unit", "Wh")
            return float(sampled["value"]) * (1000 if unit == "kWh" else 1)
    raise AssertionError(f"no register in {payload}")


class Steps:
    """Prints each step of a peer's scenario with the time since the start (when INTEROP_STEPS is set).

    Past pytest's capture (`capsys.disabled()`), so that `scripts/interop` shows them as they happen and not the
    rest of what the test prints or logs.
    """

    def __init__(self, name: str, capsys: pytest.CaptureFixture[str]) -> None:
        """Start the clock."""
        self.name = name
        self.capsys = capsys
        self.started = time.monotonic()
        self.show = bool(os.environ.get("INTEROP_STEPS"))

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.started

    def __call__(self, text: str, *, last: bool = False) -> None:
        """Print a step (`last`: the end of the line)."""
        if self.show:
            with self.capsys.disabled():
                print(f"\n  {self.name:<11}{self.elapsed:6.2f} s  {text}", end="\n  " if last else "")  # noqa: T201


async def until(hass: HomeAssistant, condition: Any, timeout: float = 10.0) -> None:
    """Wait for a condition on Home Assistant's side (its event loop runs meanwhile)."""
    await wait_for(condition, timeout=timeout)
    await hass.async_block_till_done()


@needs_peers
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_third_party_peer(
    hass: HomeAssistant, setup_integration: SetupIntegration, capsys: pytest.CaptureFixture[str], case: PeerCase
) -> None:
    """Boot, approval, inventory, a session with energy counted, a limit obeyed, stop, reset; no schema violation."""
    step = Steps(case.library, capsys)
    trusted = [trusted_station(case.station_id)] if case.approval == "trusted" else None
    entry = await setup_integration(stations=trusted)
    data = entry.runtime_data
    entities = Entities(hass, entry.entry_id, case.station_id)
    with recording() as frames:
        async with node_peer(
            case.library,
            ws_url(entry),
            case.station_id,
            password=STATION_PASSWORD,
            personality=case.personality,
            meter_interval=METER_INTERVAL,
        ) as peer:
            [library] = await peer.wait_for(lambda: peer.of("library"), "the library's name and version")

            # ---- boot and approval ----------------------------------------------------------------------
            if case.approval == "discovered":
                await peer.wait_for(lambda: peer.of("boot", status="Pending"), "boot answered Pending")
                await hass.async_block_till_done()
                (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
                assert flow["context"]["source"] == "integration_discovery"
                await hass.config_entries.flow.async_configure(flow["flow_id"], {})
            await peer.wait_for(lambda: peer.of("boot", status="Accepted"), "boot accepted")
            station = data.central.stations[case.station_id]
            assert station.boot is not None
            assert (station.boot.vendor, station.boot.model) == ("Interop peer", f"{library['name']} peer")
            assert station.boot.firmware_version == f"{library['name']} {library['version']}"
            await until(hass, lambda: entities.state("binary_sensor", "connectivity") == "on")
            step(f"booted and accepted ({case.approval}): {station.boot.vendor}, {station.boot.model}")

            # ---- inventory, or the EVSEs from what the station reports -----------------------------------
            runtime = data.runtimes[case.station_id]
            await until(hass, lambda: runtime.known_evses == set(range(1, case.evses + 1)))
            if case.reports_device_model:
                await until(hass, lambda: runtime.has_inventory)
                rate_unit = runtime.device_model.find("SmartChargingCtrlr", "RateUnit")
                assert rate_unit is not None
                assert rate_unit.value == "A,W"
                step(f"inventory read: {len(runtime.device_model)} variables")
            else:
                await until(hass, lambda: "GetBaseReport" in frames.actions(case.station_id, sent=True))
                assert not runtime.has_inventory
                step("no inventory (GetBaseReport answered NotImplemented)")
            for evse_id in range(1, case.evses + 1):
                await until(
                    hass, lambda evse_id=evse_id: entities.state("sensor", "connector_status", evse_id) == "available"
                )
            step(f"EVSEs {sorted(runtime.known_evses)} in Home Assistant, connectors available")

            # ---- a charging session, its energy counted ------------------------------------------------------
            response = await hass.services.async_call(
                DOMAIN, "start_charging", {"device_id": entities.device_id(1)}, blocking=True, return_response=True
            )
            [started_event] = await peer.wait_for(
                lambda: transaction_events(peer, "Started"), "TransactionEvent Started"
            )
            assert response == {"transaction_id": started_event["transactionInfo"]["transactionId"]}
            full_power = 16 * VOLTAGE * PHASES
            await until(hass, lambda: entities.number("sensor", "power", 1) == full_power)
            assert entities.state("sensor", "charging_state", 1) == "charging"
            await peer.wait_for(lambda: len(transaction_events(peer, "Updated")) >= 2, "two meter updates")
            start_kwh = register_wh(started_event) / 1000

            def peer_register_kwh() -> float:
                return register_wh(transaction_events(peer, "Updated")[-1]) / 1000

            await until(hass, lambda: entities.number("sensor", "energy", 1) == pytest.approx(peer_register_kwh()))
            session_kwh = entities.number("sensor", "session_energy", 1)
            lifetime_kwh = entities.number("sensor", "energy", 1)
            assert session_kwh is not None
            assert lifetime_kwh is not None
            assert session_kwh > 0
            assert lifetime_kwh - session_kwh == pytest.approx(start_kwh, abs=0.001)
            step(f"charging at {full_power} W: session {session_kwh:.3f} kWh, meter {lifetime_kwh:.3f} kWh")

            # ---- a limit set in Home Assistant reaches the station, and its power follows ------------------
            await hass.services.async_call(
                "number",
                "set_value",
                {"entity_id": entities.entity_id("number", "charging_current_limit", 1), "value": 10},
                blocking=True,
            )
            profiles = peer.of("profile")
            assert profiles, "no charging profile reached the peer"
            assert {p["profile"]["chargingProfilePurpose"] for p in profiles} == {"TxDefaultProfile", "TxProfile"}
            await peer.wait_for(lambda: peer.of("power", evseId=1, amps=10), "the car draws 10 A")
            await until(hass, lambda: entities.number("sensor", "power", 1) == 10 * VOLTAGE * PHASES)
            assert entities.number("sensor", "current_l1", 1) == 10
            assert entities.number("number", "charging_current_limit", 1) == 10
            assert entities.number("sensor", "composite_schedule", 1) == 10
            assert entities.attributes("sensor", "composite_schedule", 1)["limit_status"] == "match"
            step("limit 10 A: profiles accepted, the car draws 10 A (6900 W), the limit in force reads 10 A")

            # ---- stop (and reset) ---------------------------------------------------------------------------
            connection = station.connection
            if case.reset_while_charging:
                answer = await hass.services.async_call(
                    DOMAIN,
                    "reset",
                    {"device_id": entities.device_id(), "type": "on_idle"},
                    blocking=True,
                    return_response=True,
                )
                assert answer == {"status": "Scheduled"}
                step("reset on idle while charging: Scheduled")
            energy_before_stop = entities.number("sensor", "energy", 1)
            await hass.services.async_call(DOMAIN, "stop_charging", {"device_id": entities.device_id(1)}, blocking=True)
            [ended] = await peer.wait_for(lambda: transaction_events(peer, "Ended"), "TransactionEvent Ended")
            assert ended["transactionInfo"]["stoppedReason"] == "Remote"
            await until(hass, lambda: entities.state("sensor", "charging_state", 1) == "idle")
            assert entities.state("sensor", "stopped_reason", 1) == "Remote"
            assert entities.number("sensor", "power", 1) == 0
            assert (entities.number("sensor", "energy", 1) or 0) >= (energy_before_stop or 0)
            step("stopped remotely: idle, last stop reason Remote, 0 W")

            # ---- reset: the station reboots and is back -----------------------------------------------------
            if not case.reset_while_charging:
                answer = await hass.services.async_call(
                    DOMAIN,
                    "reset",
                    {"device_id": entities.device_id(), "type": "immediate"},
                    blocking=True,
                    return_response=True,
                )
                assert answer == {"status": "Accepted"}
            await peer.wait_for(
                lambda: peer.of("boot", status="Accepted", reason="RemoteReset"), "boot after the reset"
            )
            await until(hass, lambda: station.connection not in (None, connection))
            await until(hass, lambda: entities.state("binary_sensor", "connectivity") == "on")
            await until(hass, lambda: entities.state("sensor", "connector_status", 1) == "available")
            assert entities.state("switch", "charging", 1) == "off"
            step("reset: rebooted, booted again (RemoteReset), connected and available")

    if folder := os.environ.get("INTEROP_FRAMES"):
        frames.write(Path(folder) / f"{case.library}.frames.txt", case.station_id, peer)

    # ---- zero schema violations in either direction ----------------------------------------------------------
    assert peer.of("validation_failure") == [], "the peer's library found messages breaking the schemas"
    assert [event for event in peer.before_stop() if event["event"] == "bad_message"] == []
    failed = [event for event in peer.before_stop() if event["event"] == "call_failed"]
    assert failed == [], "the peer's CALLs that were not answered with a CALLRESULT"
    assert station.session.violation_count == 0, "messages the integration had to repair"
    assert frames.errors(case.station_id, sent=True) == [], "CALLERRORs we sent"
    assert set(errors_received(frames, case.station_id)) == set(case.expected_errors)
    assert frames.schema_violations(case.station_id) == []
    assert frames.calls_before_boot_answers(case.station_id) == []
    step(f"no schema violation in {len(frames.of(case.station_id))} messages", last=True)


def errors_received(frames: FrameRecorder, station_id: str) -> list[tuple[str, str]]:
    """The CALLERRORs the peer answered our CALLs with: (action, error code) each."""
    actions = {}
    for frame in frames.of(station_id):
        if frame.sent and frame.message[0] == 2:
            actions[frame.message[1]] = frame.message[2]
    return [(actions[error[1]], error[2]) for error in frames.errors(station_id, sent=False)]


@needs_peers
@pytest.mark.parametrize("library", ["ocpp-ws-io", "ocpp-rpc"])
async def test_peer_libraries_check_what_crosses(hass: HomeAssistant, socket_enabled: None, library: str) -> None:
    """The peers' schema validation is live: a central system breaking the schemas is caught, in both directions.

    Without this, "no validation failure" above could mean a validator that never ran. A stand-in central system
    answers the BootNotification without its required `interval` and sends a Reset of an unknown type.
    """
    answers: list[list[Any]] = []

    async def central(connection: ServerConnection) -> None:
        boot = json.loads(await connection.recv())
        assert boot[2] == "BootNotification"
        await connection.send(json.dumps([3, boot[1], {"status": "Accepted", "currentTime": "2026-11-21T10:00:00Z"}]))
        await connection.send(json.dumps([2, "bad-reset", "Reset", {"type": "Sometimes"}]))
        async for message in connection:
            answers.append(json.loads(message))
            if answers[-1][1] == "bad-reset":
                return

    async with serve(central, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")]) as server:
        port = server.sockets[0].getsockname()[1]
        async with node_peer(
            library, f"ws://127.0.0.1:{port}/ocpp", "CP-1", password=None, personality="wallbox", meter_interval=1
        ) as peer:
            await peer.wait_for(lambda: len(peer.of("validation_failure")) >= 2, "both failures reported")
            await wait_for(lambda: any(answer[1] == "bad-reset" for answer in answers))
    [boot_failure] = peer.of("call_failed", action="BootNotification")
    assert "interval" in boot_failure["error"]
    [reset_answer] = [answer for answer in answers if answer[1] == "bad-reset"]
    assert reset_answer[0] == 4, "an invalid CALL is answered with a CALLERROR"
    assert peer.of("call_in", action="Reset") == [], "and never reaches the station's handler"


def test_frame_check_finds_schema_violations(hass: HomeAssistant) -> None:
    """The third check, on what crossed the wire, finds a CALL and a CALLRESULT that break the schemas."""
    recorder = FrameRecorder()
    for sent, message in [
        (False, [2, "1", "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M"}}]),
        (True, [3, "1", {"status": "Accepted", "currentTime": "2026-11-21T10:00:00Z", "interval": 300}]),
        (True, [2, "2", "Reset", {"type": "Immediate"}]),
        (False, [3, "2", {"status": "Maybe"}]),
    ]:
        recorder.frames.append(Frame("CP-1", sent, message))
    assert recorder.schema_violations("CP-1") == [
        "received BootNotificationRequest: 'vendorName' is a required property",
        "received ResetResponse: 'Maybe' is not one of ['Accepted', 'Rejected', 'Scheduled']",
    ]


async def run_test_ocpp(url: str, station_id: str) -> tuple[int, str]:
    """Run the `test-ocpp` command (PyPI) as a user would; its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "test_ocpp",
        url,
        station_id,
        "--ocpp",
        "2.0.1",
        "--password",
        STATION_PASSWORD,
        "--timeout",
        "5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_test_ocpp_connection_tester(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """`test-ocpp` (PyPI), a connection tester: refused while pending, SUCCESS once approved, every message valid.

    It boots and sends a Heartbeat whatever the boot's answer, and answers our CALLs NotImplemented. Unknown, it is
    answered Pending and its Heartbeat refused (SecurityError, B02.FR.09), as its own hint for Home Assistant users
    says; approved in the discovery flow, it passes, and the station is in Home Assistant.
    """
    entry = await setup_integration()
    url = ws_url(entry)
    with recording() as frames:
        code, output = await run_test_ocpp(url, "CP-TESTER")
        assert code == 1, output
        assert "BootNotification status: Pending" in output
        assert "SecurityError" in output
        await hass.async_block_till_done()
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        await hass.config_entries.flow.async_configure(flow["flow_id"], {})

        code, output = await run_test_ocpp(url, "CP-TESTER")
        assert code == 0, output
        assert "BootNotification status: Accepted" in output
        assert output.rstrip().endswith("SUCCESS")
        await hass.async_block_till_done()
    station = entry.runtime_data.central.stations["CP-TESTER"]
    assert station.boot is not None
    assert (station.boot.vendor, station.boot.model) == ("TestVendor", "TestModel")
    assert Entities(hass, entry.entry_id, "CP-TESTER").device_id()
    assert station.session.violation_count == 0
    assert frames.schema_violations("CP-TESTER") == []
    assert [error[2] for error in frames.errors("CP-TESTER", sent=True)] == ["SecurityError"]
    assert {error[2] for error in frames.errors("CP-TESTER", sent=False)} <= {"NotImplemented"}
    # The tester, like some stations, does not expect a CALL before its BootNotification's answer (seen before the
    # product's fix "Boot answer first": GetBaseReport went out first).
    assert frames.calls_before_boot_answers("CP-TESTER") == []


def test_frame_check_finds_calls_before_the_boot_answer(hass: HomeAssistant) -> None:
    """A CALL of ours between a BootNotification and its answer is found; one after the answer is not."""
    recorder = FrameRecorder()
    boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    report = [2, "a", "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}]
    for sent, message in [
        (False, [2, "1", "BootNotification", boot]),
        (True, report),
        (True, [3, "1", {"status": "Accepted", "currentTime": "2026-11-21T10:00:00Z", "interval": 300}]),
        (True, [2, "b", "TriggerMessage", {"requestedMessage": "StatusNotification"}]),
    ]:
        recorder.frames.append(Frame("CP-1", sent, message))
    assert recorder.calls_before_boot_answers("CP-1") == [report]
