"""An independent OCPP 2.0.1 station for tests: the `ocpp` package's ChargePoint on a `websockets` client."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import contextlib
import ssl
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("ocpp2.0.1")


def basic_auth_header(username: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header (A00.FR.205: the password as UTF-8, base64 encoded with the user)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class StationPeer(ChargePoint):  # type: ignore[misc]
    """A charging station that boots, answers TriggerMessage and SetVariables, and records what it was sent."""

    def __init__(
        self,
        station_id: str,
        connection: ClientConnection,
        *,
        serial_number: str = "SN-0001",
        response_timeout: float = 5,
    ) -> None:
        """A station on an open connection; `start()` must run for it to answer the central system."""
        super().__init__(station_id, connection, response_timeout=response_timeout)
        self.serial_number = serial_number
        self.received: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.variables: dict[tuple[str, str], str] = {}
        self.set_variables_status = "Accepted"
        self.boot_statuses: list[str] = []
        self.inventory: list[dict[str, Any]] = []
        self.profiles: list[tuple[int, dict[str, Any]]] = []
        self.charging_profile_status = "Accepted"
        self.unlock_status = "Unlocked"
        self.transaction_ongoing = True
        self.report_part_size = 40
        #: The reports accepted and not sent yet, by requestId: what the station held when it accepted.
        self.accepted_reports: dict[int, list[dict[str, Any]]] = {}
        #: Messages the station sends on its own after answering a request (cancelled when the test is done).
        self.background: set[asyncio.Task[Any]] = set()

    async def boot(self, reason: str = "PowerUp") -> Any:
        """Send BootNotification; returns the response (status, interval, current_time)."""
        response = await self.call(
            call.BootNotification(
                charging_station={
                    "model": "Wallbox 22",
                    "vendor_name": "ACME",
                    "serial_number": self.serial_number,
                    "firmware_version": "1.2.3",
                },
                reason=reason,
            )
        )
        self.boot_statuses.append(response.status)
        return response

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, **kwargs: Any) -> call_result.TriggerMessage:
        """Accept every trigger."""
        self.received.put_nowait(("TriggerMessage", {"requested_message": requested_message, **kwargs}))
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, **_kwargs: Any) -> None:
        """Send what was asked for, once the response went out (F06.FR.04)."""
        if (task := asyncio.current_task()) is not None:
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        with contextlib.suppress(ConnectionClosed):  # the test may be done with the station already
            if requested_message == "BootNotification":
                await self.boot(reason="Triggered")
            elif requested_message == "Heartbeat":
                await self.call(call.Heartbeat())

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **kwargs: Any) -> call_result.SetVariables:
        """Store the values and answer `set_variables_status` for each."""
        self.received.put_nowait(("SetVariables", {"set_variable_data": set_variable_data, **kwargs}))
        results = []
        for item in set_variable_data:
            if self.set_variables_status in ("Accepted", "RebootRequired"):
                self.variables[item["component"]["name"], item["variable"]["name"]] = item["attribute_value"]
            results.append(
                {
                    "attribute_status": self.set_variables_status,
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    # ---- device model (B06-B08, N04) ------------------------------------------------------------------

    def load_inventory(self, report: list[dict[str, Any]]) -> None:
        """Serve this inventory (ReportData dicts, wire format) for GetBaseReport and GetVariables."""
        self.inventory = report
        for item in report:
            for attribute in item["variableAttribute"]:
                if attribute.get("type", "Actual") == "Actual" and "value" in attribute:
                    key = (item["component"]["name"], item["variable"]["name"])
                    self.variables.setdefault(key, attribute["value"])

    def base_report(self, report_base: str) -> list[dict[str, Any]]:
        """The inventory's variables a base report holds: all, the writable ones, or the availability summary."""
        if report_base == "ConfigurationInventory":
            return [item for item in self.inventory if item["variableAttribute"][0].get("mutability") != "ReadOnly"]
        if report_base == "SummaryInventory":
            return [item for item in self.inventory if item["variable"]["name"] in ("AvailabilityState", "Problem")]
        return self.inventory

    def component_report(
        self, component_variable: list[dict[str, Any]] | None, component_criteria: list[str] | None
    ) -> list[dict[str, Any]]:
        """The inventory's variables of the components asked for (B08): by name and, where given, the rest."""

        def component_matches(item: dict[str, Any], wanted: dict[str, Any]) -> bool:
            component, asked = item["component"], wanted["component"]
            evse, asked_evse = component.get("evse", {}), asked.get("evse", {})
            variable, asked_variable = item["variable"], wanted.get("variable")
            return (
                component["name"] == asked["name"]
                and ("instance" not in asked or component.get("instance") == asked["instance"])
                and ("id" not in asked_evse or evse.get("id") == asked_evse["id"])
                and ("connector_id" not in asked_evse or evse.get("connectorId") == asked_evse["connector_id"])
                and (asked_variable is None or variable["name"] == asked_variable["name"])
                and (
                    asked_variable is None
                    or "instance" not in asked_variable
                    or variable.get("instance") == asked_variable["instance"]
                )
            )

        def where(item: dict[str, Any]) -> tuple[Any, ...]:
            component = item["component"]
            return component["name"], component.get("instance"), repr(component.get("evse"))

        items = self.inventory
        if component_variable:
            items = [item for item in items if any(component_matches(item, wanted) for wanted in component_variable)]
        if component_criteria:
            # A component meets a criterion when its variable of that name is "true" (Active, Enabled, ...).
            meeting = {
                where(item)
                for item in self.inventory
                if item["variable"]["name"] in component_criteria
                and item["variableAttribute"][0].get("value") == "true"
            }
            items = [item for item in items if where(item) in meeting]
        return items

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **kwargs: Any) -> call_result.GetBaseReport:
        """Accept with an inventory (NotSupported without); the report, as it is now, follows in parts."""
        self.received.put_nowait(("GetBaseReport", {"request_id": request_id, "report_base": report_base}))
        if not self.inventory:
            return call_result.GetBaseReport(status="NotSupported")
        self.accepted_reports[request_id] = self.base_report(report_base)
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, **_kwargs: Any) -> None:
        """Send the report accepted in NotifyReport parts of `report_part_size` items (B07.FR.04)."""
        if (items := self.accepted_reports.pop(request_id, None)) is not None:
            await self.send_report(request_id, items)

    @on(Action.get_report)
    def on_get_report(self, request_id: int, **kwargs: Any) -> call_result.GetReport:
        """Accept when something matches (EmptyResultSet otherwise); the report follows in parts (B08)."""
        self.received.put_nowait(("GetReport", {"request_id": request_id, **kwargs}))
        items = self.component_report(kwargs.get("component_variable"), kwargs.get("component_criteria"))
        if not items:
            return call_result.GetReport(status="EmptyResultSet")
        self.accepted_reports[request_id] = items
        return call_result.GetReport(status="Accepted")

    @after(Action.get_report)
    async def after_get_report(self, request_id: int, **_kwargs: Any) -> None:
        """Send the report accepted in NotifyReport parts of `report_part_size` items (B08.FR.04)."""
        if (items := self.accepted_reports.pop(request_id, None)) is not None:
            await self.send_report(request_id, items)

    async def send_report(self, request_id: int, data: list[dict[str, Any]]) -> None:
        """NotifyReport parts of `report_part_size` items, the last with tbc false."""
        if (task := asyncio.current_task()) is not None:
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        size = self.report_part_size
        chunks = [data[index : index + size] for index in range(0, len(data), size)]
        with contextlib.suppress(ConnectionClosed):
            for seq_no, chunk in enumerate(chunks):
                await self.call(
                    call.NotifyReport(
                        request_id=request_id,
                        generated_at="2026-11-21T10:00:00Z",
                        seq_no=seq_no,
                        report_data=chunk,
                        tbc=seq_no < len(chunks) - 1,
                    )
                )

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **kwargs: Any) -> call_result.GetVariables:
        """Answer from the current values."""
        self.received.put_nowait(("GetVariables", {"get_variable_data": get_variable_data}))
        results = []
        for item in get_variable_data:
            value = self.variables.get((item["component"]["name"], item["variable"]["name"]))
            result = {"attribute_status": "Accepted" if value is not None else "UnknownVariable", **item}
            if value is not None:
                result["attribute_value"] = value
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variable_monitoring)
    def on_set_variable_monitoring(
        self, set_monitoring_data: list[dict[str, Any]], **kwargs: Any
    ) -> call_result.SetVariableMonitoring:
        """Accept every monitor."""
        self.received.put_nowait(("SetVariableMonitoring", {"set_monitoring_data": set_monitoring_data}))
        return call_result.SetVariableMonitoring(
            set_monitoring_result=[
                {
                    "id": number,
                    "status": "Accepted",
                    "type": item["type"],
                    "severity": item["severity"],
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for number, item in enumerate(set_monitoring_data, start=1)
            ]
        )

    @on(Action.reset)
    def on_reset(self, type: str, **kwargs: Any) -> call_result.Reset:  # noqa: A002 - the OCPP field name
        """Accept a reset (and do nothing)."""
        self.received.put_nowait(("Reset", {"type": type, **kwargs}))
        return call_result.Reset(status="Accepted")

    @on(Action.get_transaction_status)
    def on_get_transaction_status(self, **kwargs: Any) -> call_result.GetTransactionStatus:
        """Nothing queued; `transaction_ongoing` says whether the transaction runs."""
        self.received.put_nowait(("GetTransactionStatus", kwargs))
        return call_result.GetTransactionStatus(messages_in_queue=False, ongoing_indicator=self.transaction_ongoing)

    # ---- smart charging (K01, K08, K10) and remote control (F, G) --------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **kwargs: Any) -> Any:
        """Keep the profile (replacing one with the same id) when `charging_profile_status` accepts it."""
        self.received.put_nowait(("SetChargingProfile", {"evse_id": evse_id, "charging_profile": charging_profile}))
        if self.charging_profile_status == "Accepted":
            self.profiles = [p for p in self.profiles if p[1]["id"] != charging_profile["id"]] + [
                (evse_id, charging_profile)
            ]
        return call_result.SetChargingProfile(status=self.charging_profile_status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **kwargs: Any) -> Any:
        """Drop the profile by id, or those matching every given criterion (K10)."""
        self.received.put_nowait(("ClearChargingProfile", kwargs))
        wanted = kwargs.get("charging_profile_id")
        criteria = kwargs.get("charging_profile_criteria") or {}

        def cleared(evse_id: int, profile: dict[str, Any]) -> bool:
            if wanted is not None:
                return bool(profile["id"] == wanted)
            return (
                criteria.get("evse_id", evse_id) == evse_id
                and criteria.get("charging_profile_purpose", profile["charging_profile_purpose"])
                == profile["charging_profile_purpose"]
                and criteria.get("stack_level", profile["stack_level"]) == profile["stack_level"]
            )

        before = len(self.profiles)
        self.profiles = [(evse_id, profile) for evse_id, profile in self.profiles if not cleared(evse_id, profile)]
        return call_result.ClearChargingProfile(status="Accepted" if len(self.profiles) < before else "Unknown")

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(self, request_id: int, charging_profile: dict[str, Any], **kwargs: Any) -> Any:
        """Report the profiles it holds (all of them, whatever the criteria), or NoProfiles (K09)."""
        self.received.put_nowait(
            ("GetChargingProfiles", {"request_id": request_id, "charging_profile": charging_profile, **kwargs})
        )
        return call_result.GetChargingProfiles(status="Accepted" if self.profiles else "NoProfiles")

    @after(Action.get_charging_profiles)
    async def after_get_charging_profiles(self, request_id: int, **_kwargs: Any) -> None:
        """One ReportChargingProfiles per profile, the last with tbc false (K09.FR.03)."""
        if (task := asyncio.current_task()) is not None:
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        with contextlib.suppress(ConnectionClosed):
            for number, (evse_id, profile) in enumerate(self.profiles):
                await self.call(
                    call.ReportChargingProfiles(
                        request_id=request_id,
                        charging_limit_source="CSO",
                        charging_profile=[profile],
                        evse_id=evse_id,
                        tbc=number < len(self.profiles) - 1,
                    )
                )

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, duration: int, evse_id: int, **kwargs: Any) -> Any:
        """A simple composite: the lowest limit of the profiles for this EVSE or the station, per K08."""
        self.received.put_nowait(("GetCompositeSchedule", {"duration": duration, "evse_id": evse_id, **kwargs}))
        limits = [
            (profile["charging_schedule"][0]["charging_rate_unit"], period["limit"])
            for target, profile in self.profiles
            if target in (0, evse_id)
            for period in profile["charging_schedule"][0]["charging_schedule_period"][:1]
        ]
        if not limits:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit, limit = min(limits, key=lambda item: item[1])
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": "2026-11-21T00:00:00Z",
                "charging_rate_unit": unit,
                "charging_schedule_period": [{"start_period": 0, "limit": limit}],
            },
        )

    @on(Action.request_start_transaction)
    def on_request_start_transaction(self, id_token: dict[str, Any], remote_start_id: int, **kwargs: Any) -> Any:
        """Accept; the test drives the transaction's events."""
        self.received.put_nowait(
            ("RequestStartTransaction", {"id_token": id_token, "remote_start_id": remote_start_id, **kwargs})
        )
        return call_result.RequestStartTransaction(status="Accepted", transaction_id="REMOTE-1")

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, transaction_id: str, **kwargs: Any) -> Any:
        """Accept."""
        self.received.put_nowait(("RequestStopTransaction", {"transaction_id": transaction_id}))
        return call_result.RequestStopTransaction(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(self, operational_status: str, **kwargs: Any) -> Any:
        """Accept."""
        self.received.put_nowait(("ChangeAvailability", {"operational_status": operational_status, **kwargs}))
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, evse_id: int, connector_id: int, **kwargs: Any) -> Any:
        """Unlock."""
        self.received.put_nowait(("UnlockConnector", {"evse_id": evse_id, "connector_id": connector_id}))
        return call_result.UnlockConnector(status=self.unlock_status)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **kwargs: Any) -> Any:
        """Echo the data for vendor "test"."""
        self.received.put_nowait(("DataTransfer", {"vendor_id": vendor_id, **kwargs}))
        if vendor_id != "test":
            return call_result.DataTransfer(status="UnknownVendorId")
        return call_result.DataTransfer(status="Accepted", data=kwargs.get("data"))

    async def next_received(self, action: str | None = None, timeout: float = 5) -> tuple[str, dict[str, Any]]:
        """The next CSMS-initiated request this station served (of `action`, skipping others, when given)."""
        async with asyncio.timeout(timeout):
            while True:
                received = await self.received.get()
                if action is None or received[0] == action:
                    return received


@contextlib.asynccontextmanager
async def station_connection(
    url: str,
    station_id: str,
    *,
    password: str | None = None,
    username: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    serial_number: str = "SN-0001",
    peer_class: type[StationPeer] | None = None,
    timeout: float = 5,
) -> AsyncIterator[StationPeer]:
    """A connected, running StationPeer (`timeout`: to connect, and for each answer); closed on exit."""
    headers = basic_auth_header(username or station_id, password) if password is not None else None
    connection = await connect(
        f"{url}/{station_id}",
        subprotocols=[SUBPROTOCOL],
        additional_headers=headers,
        ssl=ssl_context,
        open_timeout=timeout,
        ping_interval=None,  # tests move the clock: a keepalive would time out
    )
    peer = (peer_class or StationPeer)(station_id, connection, serial_number=serial_number, response_timeout=timeout)
    task = asyncio.create_task(peer.start())
    try:
        yield peer
    finally:
        tasks = [task, *peer.background]
        for pending in tasks:
            pending.cancel()
        await connection.close()
        await asyncio.gather(*tasks, return_exceptions=True)
