"""The station simulator (tools/simulator) against the real integration in Home Assistant.

The simulator is the project's own OCPP 2.0.1 station on the `ocpp` package's ChargePoint; the central system
drives its CSMS-initiated handlers through the stations' typed RPC sessions. Messages our central system does
not handle yet (Authorize, TransactionEvent, NotifyReport, ...) are answered with CALLERRORs, which the simulator
must take in its stride; what it sent is checked on its side (`SimStation.sent`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.ocpp_csms.const import (
    CERTIFICATE_DIR,
    CERTIFICATES_GENERATE,
    CONF_CERTIFICATES,
    CONF_HEARTBEAT_INTERVAL,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
)
from custom_components.ocpp_csms.csms.certificates import generate_client_certificate
from custom_components.ocpp_csms.csms.passwords import verify_password
from custom_components.ocpp_csms.csms.registry import SecurityProfile
from custom_components.ocpp_csms.protocol.errors import OcppError, RpcErrorCode
from custom_components.ocpp_csms.protocol.session import RpcSession
from custom_components.ocpp_csms.protocol.v201.datatypes import (
    EVSE,
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
    Component,
    GetVariableData,
    IdToken,
    SetVariableData,
    Variable,
)
from custom_components.ocpp_csms.protocol.v201.enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    IdTokenEnum,
    MessageTrigger,
    ReportBase,
    Reset,
)
from custom_components.ocpp_csms.protocol.v201.messages import (
    AuthorizeRequest,
    DataTransferRequest,
    DataTransferResponse,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    GetVariablesRequest,
    GetVariablesResponse,
    HeartbeatRequest,
    NotifyReportRequest,
    RequestStartTransactionRequest,
    RequestStartTransactionResponse,
    RequestStopTransactionRequest,
    RequestStopTransactionResponse,
    ResetRequest,
    ResetResponse,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
    SetVariablesRequest,
    SetVariablesResponse,
    TransactionEventRequest,
)
from tools.simulator import SimStation, StationConfig
from tools.simulator.device_model import InventorySettings, build_inventory
from tools.simulator.meter import Car, Limit
from tools.simulator.smart_charging import Capabilities, ProfileStore

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, wait_for, ws_url


def fast_config(url: str, station_id: str = "sim-001", **overrides: Any) -> StationConfig:
    """A station that does everything quickly."""
    settings: dict[str, Any] = {
        "station_id": station_id,
        "url": url,
        "password": STATION_PASSWORD,
        "meter_interval": 0.2,
        "plug_delay": 0.05,
        "reboot_delay": 0.05,
        "backoff_min": 0.05,
        "backoff_range": 0.05,
        "response_timeout": 5,
        "open_timeout": 5,
        "step_delay": 0.01,
    }
    return StationConfig(**(settings | overrides))


@contextlib.asynccontextmanager
async def simulated(config: StationConfig) -> AsyncIterator[SimStation]:
    """A running simulated station, stopped (and every task of it ended) on exit."""
    station = SimStation(config)
    task = asyncio.create_task(station.run())
    try:
        yield station
    finally:
        await station.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def sent(station: SimStation, action: str) -> list[Any]:
    """Payloads of the CALLs of `action` the station sent."""
    return [message.payload for message in station.sent if message.action == action]


async def test_boots_reports_connectors_and_heartbeats(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(options={CONF_HEARTBEAT_INTERVAL: 1}, stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry), evses=2)) as station:
        await wait_for(station.online.is_set)
        assert station.boot_statuses == ["Accepted"]
        central = entry.runtime_data.central.stations["sim-001"]
        assert central.boot is not None
        assert (central.boot.vendor, central.boot.reason) == ("OCPP CSMS Simulator", "PowerUp")
        await wait_for(lambda: len(central.connector_status) == 2)
        assert {key: str(value) for key, value in central.connector_status.items()} == {
            (1, 1): "Available",
            (2, 1): "Available",
        }
        assert station.heartbeat_interval == 1
        await wait_for(lambda: station.stats.answered["Heartbeat"] >= 2, timeout=4)


async def test_approval_is_no_reboot(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """The BootNotification the central system triggers on approval is answered, not reported as a reboot (A04)."""
    entry = await setup_integration()
    async with simulated(fast_config(ws_url(entry))) as station:
        await wait_for(lambda: station.boot_statuses[:1] == ["Pending"])
        await hass.async_block_till_done()
        (flow,) = hass.config_entries.flow.async_progress_by_handler("ocpp_csms")
        await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        await wait_for(station.online.is_set)
        await wait_for(lambda: sent(station, "StatusNotification"))
        await asyncio.sleep(0.2)  # what follows the first accepted boot has gone out
    assert station.boot_statuses == ["Pending", "Accepted"]
    assert sent(station, "SecurityEventNotification") == []


def central_session(entry: Any, station_id: str = "sim-001") -> RpcSession:
    """Our central system's RPC session with the station."""
    session: RpcSession = entry.runtime_data.central.stations[station_id].session
    return session


def power_of(event: Any) -> float:
    """Power.Active.Import of a TransactionEvent's meter value (NaN when absent)."""
    for meter_value in event.meter_value or []:
        for sampled in meter_value["sampled_value"]:
            if sampled.get("measurand") == "Power.Active.Import":
                return float(sampled["value"])
    return float("nan")


def transaction_events(station: SimStation, event_type: str | None = None) -> list[Any]:
    return [e for e in sent(station, "TransactionEvent") if event_type is None or e.event_type == event_type]


def eleven_kw_car() -> Car:
    return Car(max_current=16.0, phases=3, battery_wh=60_000.0, soc=30.0)


#: Keep charging whatever the CSMS answers about the ID token (E05.FR.03), so the test is about what it tests.
ANY_TOKEN = {"TxCtrlr.StopTxOnInvalidId": "false", "TxCtrlr.MaxEnergyOnInvalidId": "1000000000"}


async def test_charging_profile_limits_the_power_and_the_composite_schedule(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry), car=eleven_kw_car(), variables=ANY_TOKEN)) as station:
        await wait_for(station.online.is_set)
        session = central_session(entry)
        started = await session.call(
            RequestStartTransactionRequest(
                id_token=IdToken(id_token="04A1B2C3D4E5F6", type=IdTokenEnum.ISO14443), remote_start_id=7, evse_id=1
            ),
            RequestStartTransactionResponse,
        )
        assert started.status == "Accepted"
        await wait_for(lambda: len(transaction_events(station, "Updated")) >= 2)
        [begin] = transaction_events(station, "Started")
        assert begin.trigger_reason == "RemoteStart"
        assert begin.transaction_info["remote_start_id"] == 7
        transaction_id = begin.transaction_info["transaction_id"]
        assert 10_500 < power_of(transaction_events(station, "Updated")[-1]) < 11_300  # 16 A x 3 x ~230 V

        # A TxDefaultProfile of 8 A: the next meter value shows 8 A x 3 phases x 230 V.
        before = len(transaction_events(station))
        response = await session.call(
            SetChargingProfileRequest(
                evse_id=1,
                charging_profile=ChargingProfile(
                    id=1,
                    stack_level=0,
                    charging_profile_purpose=ChargingProfilePurpose.TX_DEFAULT_PROFILE,
                    charging_profile_kind=ChargingProfileKind.RELATIVE,
                    charging_schedule=[
                        ChargingSchedule(
                            id=1,
                            charging_rate_unit=ChargingRateUnit.A,
                            charging_schedule_period=[ChargingSchedulePeriod(start_period=0, limit=8.0)],
                        )
                    ],
                ),
            ),
            SetChargingProfileResponse,
        )
        assert response.status == "Accepted"
        await wait_for(lambda: len(transaction_events(station)) > before)
        following = transaction_events(station)[before]
        assert following.trigger_reason == "ChargingRateChanged"
        assert 5_350 < power_of(following) < 5_700
        await wait_for(lambda: len(transaction_events(station)) > before + 2)
        assert all(5_350 < power_of(event) < 5_700 for event in transaction_events(station)[before:])

        # A station-wide maximum that drops to 6 A in 60 s: the composite is the lower of both at any time.
        now = datetime.now(UTC).replace(microsecond=0)
        response = await session.call(
            SetChargingProfileRequest(
                evse_id=0,
                charging_profile=ChargingProfile(
                    id=2,
                    stack_level=0,
                    charging_profile_purpose=ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
                    charging_profile_kind=ChargingProfileKind.ABSOLUTE,
                    charging_schedule=[
                        ChargingSchedule(
                            id=2,
                            start_schedule=now - timedelta(seconds=60),
                            charging_rate_unit=ChargingRateUnit.W,
                            charging_schedule_period=[
                                ChargingSchedulePeriod(start_period=0, limit=22_000.0),
                                ChargingSchedulePeriod(start_period=120, limit=4_140.0),
                            ],
                        )
                    ],
                ),
            ),
            SetChargingProfileResponse,
        )
        assert response.status == "Accepted"
        composite = await session.call(
            GetCompositeScheduleRequest(duration=600, evse_id=1, charging_rate_unit=ChargingRateUnit.A),
            GetCompositeScheduleResponse,
        )
        assert composite.status == "Accepted"
        assert composite.schedule is not None
        assert composite.schedule.charging_rate_unit == "A"
        periods = [(p.start_period, p.limit, p.number_phases) for p in composite.schedule.charging_schedule_period]
        assert periods[0] == (0, 8.0, 3)
        assert len(periods) == 2
        assert 58 <= periods[1][0] <= 61
        assert periods[1][1:] == (6.0, 3)

        # A TxProfile for another transaction id is refused (K01.FR.33); on EVSE 0 too (K01.FR.16).
        for evse_id, tx_id in ((1, "not-this-one"), (0, transaction_id)):
            response = await session.call(
                SetChargingProfileRequest(
                    evse_id=evse_id,
                    charging_profile=ChargingProfile(
                        id=3,
                        stack_level=1,
                        charging_profile_purpose=ChargingProfilePurpose.TX_PROFILE,
                        charging_profile_kind=ChargingProfileKind.RELATIVE,
                        transaction_id=tx_id,
                        charging_schedule=[
                            ChargingSchedule(
                                id=3,
                                charging_rate_unit=ChargingRateUnit.A,
                                charging_schedule_period=[ChargingSchedulePeriod(start_period=0, limit=10.0)],
                            )
                        ],
                    ),
                ),
                SetChargingProfileResponse,
            )
            assert response.status == "Rejected"

        stopped = await session.call(
            RequestStopTransactionRequest(transaction_id=transaction_id), RequestStopTransactionResponse
        )
        assert stopped.status == "Accepted"
        await wait_for(lambda: transaction_events(station, "Ended"))
        [end] = transaction_events(station, "Ended")
        assert (end.trigger_reason, end.transaction_info["stopped_reason"]) == ("RemoteStop", "Remote")
        seq_nos = [event.seq_no for event in transaction_events(station)]
        assert seq_nos == list(range(len(seq_nos)))
        # The CSMS does not handle TransactionEvent yet: every one was answered with a CALLERROR, and tolerated.
        assert station.stats.connects == 1


async def test_password_rotation_then_reconnection_with_the_new_password(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        await wait_for(station.online.is_set)
        await entry.runtime_data.trust.async_rotate_password("sim-001")
        assert station.password != STATION_PASSWORD
        new_password = station.password
        assert new_password is not None
        record = entry.runtime_data.registry.get("sim-001")
        assert record is not None
        assert record.password_hash is not None
        assert verify_password(new_password, record.password_hash)
        # The listener restarts: the station comes back with its new password (the old one would get a 401).
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        await wait_for(lambda: station.stats.connects == 2 and station.online.is_set())
        await wait_for(lambda: entry.runtime_data.central.stations["sim-001"].connected)
        assert station.stats.connect_failures == 0 or station.stats.connects == 2
        # A station that was accepted does not boot again on reconnecting; a trigger for it is refused (F06.FR.17).
        assert station.boot_statuses == ["Accepted"]


async def test_reset_reconnects_and_boots_with_remote_reset(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry), car=eleven_kw_car(), variables=ANY_TOKEN)) as station:
        await wait_for(station.online.is_set)
        session = central_session(entry)
        await session.call(
            RequestStartTransactionRequest(
                id_token=IdToken(id_token="CAFE01", type=IdTokenEnum.ISO14443), remote_start_id=1, evse_id=1
            ),
            RequestStartTransactionResponse,
        )
        await wait_for(lambda: station.evses[1].tx is not None)
        # OnIdle waits for the transaction to end.
        response = await session.call(ResetRequest(type=Reset.ON_IDLE), ResetResponse)
        assert response.status == "Scheduled"
        response = await session.call(ResetRequest(type=Reset.IMMEDIATE), ResetResponse)
        assert response.status == "Accepted"
        await wait_for(lambda: station.boot_statuses == ["Accepted", "Accepted"])
        central = entry.runtime_data.central.stations["sim-001"]
        await wait_for(lambda: central.boot is not None and central.boot.reason == "RemoteReset")
        assert station.stats.connects == 2
        [end] = transaction_events(station, "Ended")
        assert (end.trigger_reason, end.transaction_info["stopped_reason"]) == ("ResetCommand", "ImmediateReset")
        await wait_for(station.online.is_set)
        assert station.evses[1].tx is None
        await wait_for(lambda: [e.type for e in sent(station, "SecurityEventNotification")] == ["ResetOrReboot"])


async def test_keeps_charging_through_callerrors(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """The CSMS answers Authorize, TransactionEvent, NotifyReport, Heartbeat with CALLERRORs: the station goes on."""
    entry = await setup_integration(options={CONF_HEARTBEAT_INTERVAL: 1}, stations=[trusted_station("sim-001")])
    config = fast_config(ws_url(entry), scenario="charge", idle_time=0.3, charge_time=0.4, meter_interval=0.1)
    async with simulated(config) as station:
        await wait_for(station.online.is_set)
        session = central_session(entry)

        async def refuse(_request: Any) -> Any:
            raise OcppError(RpcErrorCode.INTERNAL_ERROR, "the test refuses this")

        for request in (AuthorizeRequest, TransactionEventRequest, NotifyReportRequest, HeartbeatRequest):
            session.on(request, refuse)
        ended_before = len(transaction_events(station, "Ended"))
        await wait_for(lambda: len(transaction_events(station, "Ended")) >= ended_before + 2, timeout=10)
        refused = [m for m in station.sent if m.error_code == "InternalError"]
        assert {m.action for m in refused} >= {"Authorize", "TransactionEvent"}

        response = await session.call(
            GetBaseReportRequest(request_id=4242, report_base=ReportBase.FULL_INVENTORY), GetBaseReportResponse
        )
        assert response.status == "Accepted"

        def report() -> list[Any]:
            return [part for part in sent(station, "NotifyReport") if part.request_id == 4242]

        await wait_for(lambda: report() and not report()[-1].tbc)
        parts = report()
        assert [part.seq_no for part in parts] == list(range(len(parts)))
        assert all(part.tbc for part in parts[:-1])
        assert sum(len(part.report_data) for part in parts) >= 150
        assert all(len(part.report_data) <= config.report_part_size for part in parts)

        await wait_for(lambda: any(m.action == "Heartbeat" and m.error_code for m in station.sent), timeout=3)
        assert station.stats.connects == 1
        assert station.online.is_set()
        assert entry.runtime_data.central.stations["sim-001"].connected


async def test_device_model_through_the_central_system(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        await wait_for(station.online.is_set)
        session = central_session(entry)
        response = await session.call(
            GetVariablesRequest(
                get_variable_data=[
                    GetVariableData(
                        component=Component(name="OCPPCommCtrlr"), variable=Variable(name="HeartbeatInterval")
                    ),
                    GetVariableData(
                        component=Component(name="SecurityCtrlr"), variable=Variable(name="BasicAuthPassword")
                    ),
                    GetVariableData(component=Component(name="SmartChargingCtrlr"), variable=Variable(name="RateUnit")),
                    GetVariableData(component=Component(name="EVSE", evse=EVSE(id=1)), variable=Variable(name="Power")),
                    GetVariableData(component=Component(name="NoSuchCtrlr"), variable=Variable(name="Enabled")),
                    GetVariableData(component=Component(name="TxCtrlr"), variable=Variable(name="NoSuchVariable")),
                ]
            ),
            GetVariablesResponse,
        )
        results = [(r.attribute_status.value, r.attribute_value) for r in response.get_variable_result]
        assert results == [
            ("Accepted", "300"),
            ("Rejected", None),  # WriteOnly (B06.FR.09)
            ("Accepted", "A,W"),
            ("Accepted", "0"),
            ("UnknownComponent", None),
            ("UnknownVariable", None),
        ]
        response = await session.call(
            SetVariablesRequest(
                set_variable_data=[
                    SetVariableData(
                        attribute_value="2",
                        component=Component(name="OCPPCommCtrlr"),
                        variable=Variable(name="HeartbeatInterval"),
                    ),
                    SetVariableData(
                        attribute_value="3",
                        component=Component(name="ChargingStation"),
                        variable=Variable(name="SupplyPhases"),
                    ),
                    SetVariableData(
                        attribute_value="-5",
                        component=Component(name="OCPPCommCtrlr"),
                        variable=Variable(name="HeartbeatInterval", instance="x"),
                    ),
                    SetVariableData(
                        attribute_value="0,1",
                        component=Component(name="OCPPCommCtrlr"),
                        variable=Variable(name="NetworkConfigurationPriority"),
                    ),
                    SetVariableData(
                        attribute_value="short",
                        component=Component(name="SecurityCtrlr"),
                        variable=Variable(name="BasicAuthPassword"),
                    ),
                ]
            ),
            SetVariablesResponse,
        )
        statuses = [r.attribute_status.value for r in response.set_variable_result]
        assert statuses == ["Accepted", "Rejected", "UnknownVariable", "RebootRequired", "Rejected"]
        assert station.heartbeat_interval == 2
        # TriggerMessage: what the station can send, after answering; BootNotification once accepted is refused.
        central = entry.runtime_data.central
        assert await central.trigger("sim-001", MessageTrigger.HEARTBEAT) == "Accepted"
        assert await central.trigger("sim-001", MessageTrigger.METER_VALUES) == "Accepted"
        assert await central.trigger("sim-001", MessageTrigger.BOOT_NOTIFICATION) == "Rejected"
        assert await central.trigger("sim-001", MessageTrigger.TRANSACTION_EVENT) == "Rejected"
        await wait_for(lambda: sent(station, "MeterValues"))
        response = await session.call(
            DataTransferRequest(vendor_id="sim", message_id="echo", data={"ping": 1}), DataTransferResponse
        )
        assert (response.status, response.data) == ("Accepted", {"ping": 1})
        response = await session.call(DataTransferRequest(vendor_id="acme"), DataTransferResponse)
        assert response.status == "UnknownVendorId"


async def test_security_profiles_2_and_3(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    """TLS with Basic auth, and TLS with a client certificate whose common name is the serial number."""
    tls_port = free_port()
    entry = await setup_integration(
        options={CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "127.0.0.1"},
        stations=[
            trusted_station("sim-002", SecurityProfile.TLS_BASIC_AUTH),
            trusted_station("sim-003", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None),
        ],
    )
    directory = Path(hass.config.path(CERTIFICATE_DIR))
    ca_file = directory / "ca.crt"
    certificate, key = await hass.async_add_executor_job(
        lambda: generate_client_certificate(ca_file.read_bytes(), (directory / "ca.key").read_bytes(), "sim-003")
    )
    cert_file, key_file = tmp_path / "sim-003.crt", tmp_path / "sim-003.key"
    await hass.async_add_executor_job(cert_file.write_bytes, certificate)
    await hass.async_add_executor_job(key_file.write_bytes, key)
    url = f"wss://127.0.0.1:{tls_port}/ocpp"
    profile2 = fast_config(url, "sim-002", security_profile=2, ca_file=ca_file)
    profile3 = fast_config(
        url, "sim-003", security_profile=3, password=None, ca_file=ca_file, cert_file=cert_file, key_file=key_file
    )
    async with simulated(profile2) as two, simulated(profile3) as three:
        await wait_for(lambda: two.online.is_set() and three.online.is_set())
        central = entry.runtime_data.central.stations
        assert central["sim-002"].credentials is not None
        assert central["sim-002"].credentials.profile is SecurityProfile.TLS_BASIC_AUTH
        assert central["sim-003"].credentials is not None
        assert central["sim-003"].credentials.profile is SecurityProfile.TLS_CLIENT_CERTIFICATE
        assert three.serial_number == "sim-003"
        assert (two.boot_statuses, three.boot_statuses) == (["Accepted"], ["Accepted"])


# ---- the simulator's own logic, without a CSMS -----------------------------------------------------------------


def test_inventory_uses_standard_names_and_is_large() -> None:
    model = build_inventory(InventorySettings(station_id="sim-001", password="x" * 20))
    assert len(model) >= 150
    assert model.value("SmartChargingCtrlr", "RateUnit") == "A,W"
    password = model.find("SecurityCtrlr", "BasicAuthPassword")
    assert password is not None
    assert password.mutability == "WriteOnly"
    assert "value" not in password.report_item()["variable_attribute"][0]
    assert model.find("DeviceDataCtrlr", "ItemsPerMessage", instance="GetReport") is not None
    assert model.find("Connector", "ConnectorType", evse_id=1, connector_id=1) is not None
    two = build_inventory(InventorySettings(station_id="sim-001", evses=2))
    assert len(two) > len(model)


def test_profile_validation_and_composite() -> None:
    store = ProfileStore()
    caps = Capabilities(evse_ids=frozenset({1}), transactions={1: "tx-1"})
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)

    def profile(profile_id: int, purpose: str, periods: list[tuple[int, float]], **extra: Any) -> dict[str, Any]:
        schedule: dict[str, Any] = {
            "id": profile_id,
            "charging_rate_unit": extra.pop("unit", "A"),
            "charging_schedule_period": [{"start_period": s, "limit": limit} for s, limit in periods],
        }
        if "start_schedule" in extra:
            schedule["start_schedule"] = extra.pop("start_schedule")
        return {
            "id": profile_id,
            "stack_level": extra.pop("stack_level", 0),
            "charging_profile_purpose": purpose,
            "charging_profile_kind": extra.pop("kind", "Relative"),
            "charging_schedule": [schedule],
            **extra,
        }

    absolute = {"kind": "Absolute", "start_schedule": start.isoformat()}
    assert store.install(0, profile(1, "ChargingStationMaxProfile", [(0, 32), (3600, 10)], **absolute), caps).accepted
    assert store.install(1, profile(2, "TxDefaultProfile", [(0, 16), (1800, 12)]), caps).accepted
    assert store.install(1, profile(3, "TxDefaultProfile", [(0, 8)], stack_level=1, duration=None), caps).accepted
    rejected = [
        (0, profile(9, "TxProfile", [(0, 6)], transaction_id="tx-1")),  # K01.FR.16
        (1, profile(9, "TxProfile", [(0, 6)])),  # K01.FR.03
        (1, profile(9, "TxProfile", [(0, 6)], transaction_id="tx-2")),  # K01.FR.33
        (1, profile(9, "ChargingStationMaxProfile", [(0, 6)], **absolute)),  # EVSE 0 only
        (0, profile(9, "ChargingStationMaxProfile", [(0, 6)])),  # K01.FR.38: not Relative
        (1, profile(9, "TxDefaultProfile", [(5, 6)])),  # K01.FR.31
        (1, profile(9, "TxDefaultProfile", [(0, 6), (0, 7)])),  # K01.FR.35
        (1, profile(9, "TxDefaultProfile", [(0, 6)], stack_level=1)),  # K01.FR.06: same stack level
        (7, profile(9, "TxDefaultProfile", [(0, 6)])),  # K01.FR.28
        (1, profile(9, "ChargingStationExternalConstraints", [(0, 6)])),  # K01.FR.22
        (1, profile(9, "TxDefaultProfile", [(0, 6)], kind="Absolute")),  # K01.FR.40
    ]
    for evse_id, raw in rejected:
        assert not store.install(evse_id, raw, caps).accepted, raw
    assert len(store) == 3
    evses = {1: ("tx-1", start, Limit(16.0, 3))}
    # Stack level 1 (8 A) wins over level 0; the station maximum drops to 10 A after an hour, never below 8 A.
    periods = store.composite(1, start, 7200, "A", evses=evses)
    assert periods == [{"start_period": 0, "limit": 8.0, "number_phases": 3}]
    assert store.clear(3) == "Accepted"
    periods = store.composite(1, start, 7200, "A", evses=evses)
    assert [(p["start_period"], p["limit"]) for p in periods] == [(0, 16.0), (1800, 12.0), (3600, 10.0)]
    watts = store.composite(1, start, 7200, "W", evses=evses)
    assert [p["limit"] for p in watts] == [11040.0, 8280.0, 6900.0]
    # EVSE 0: what the whole station may draw.
    assert store.composite(0, start, 60, "A", evses=evses)[0]["limit"] == 16.0
    assert store.clear(evse_id=1, purpose="TxDefaultProfile") == "Accepted"
    assert store.clear(evse_id=1) == "Unknown"
