"""Any CSMS-initiated OCPP 2.0.1 request, for what no built-in feature covers (the `send_request` action).

Vendor settings, a station's odd needs, support questions: the payload (wire JSON, camelCase) is validated against
the typed model of the action's request before anything is sent, and the answer is the station's response as it
sent it. What the request changes is read back, so that Home Assistant shows what the station holds:

- SetChargingProfile / ClearChargingProfile accepted: the composite schedule (K08) of the EVSE (of every EVSE for
  EVSE 0 or a profile cleared by its id), which the limit entities show;
- SetVariables: the values accepted, read back with GetVariables (a value needing a reboot opens the repair);
- GetBaseReport / GetReport accepted: the report is taken by the inventory reader (a FullInventory becomes the
  inventory, the variables of other reports are merged into it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from pydantic import ValidationError

from .context import StationContext
from .helpers import invalid_payload
from .protocol.model import OcppModel
from .protocol.v201.enums import ChargingProfileStatus, ClearChargingProfileStatus
from .protocol.v201.messages import (
    ACTIONS,
    ActionSpec,
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetReportRequest,
    GetReportResponse,
    Initiator,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
    SetVariablesRequest,
    SetVariablesResponse,
    TriggerMessageRequest,
)

#: Every action whose request the central system may send, by name.
CSMS_ACTIONS: Final[Mapping[str, ActionSpec]] = {
    name: spec for name, spec in sorted(ACTIONS.items()) if Initiator.CSMS in spec.initiated_by
}

type ReportRequest = GetBaseReportRequest | GetReportRequest
type ReportResponse = GetBaseReportResponse | GetReportResponse


class StationRequests:
    """Sends the requests an administrator gives as they are, and reads back what they change."""

    def __init__(
        self,
        context: StationContext,
        *,
        profiles_changed: Callable[[str, int], Awaitable[None]],
        variables_written: Callable[[str, SetVariablesRequest, SetVariablesResponse], Awaitable[None]],
        send_report_request: Callable[[str, ReportRequest], Awaitable[ReportResponse]],
    ) -> None:
        """`profiles_changed(station_id, evse_id)` reads the composite schedule back (EVSE 0: every EVSE).

        `variables_written` reads back what a SetVariables changed; `send_report_request` sends a report request
        whose report the inventory reader then takes.
        """
        self.context = context
        self._profiles_changed = profiles_changed
        self._variables_written = variables_written
        self._send_report_request = send_report_request

    async def async_send(self, station_id: str, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Send `action` (one of CSMS_ACTIONS) with `payload`; the station's response payload, wire names.

        A payload that is no valid request is a translated validation error and nothing is sent; a station that
        is not connected, does not answer or answers a CALLERROR is a translated error.
        """
        spec = CSMS_ACTIONS[action]
        try:
            request = spec.request.from_payload(payload)
        except ValidationError as err:
            raise invalid_payload(action, err) from err
        station = self.context.connected(station_id)
        response: OcppModel
        if isinstance(request, GetBaseReportRequest | GetReportRequest):
            response = await self._send_report_request(station_id, request)
        else:
            if isinstance(request, TriggerMessageRequest):
                station.awaited.expect_trigger(request.requested_message)  # even before acceptance (F06)
            response = await self.context.call(station_id, request, spec.response)
        await self._read_back(station_id, request, response)
        return response.to_payload()

    async def _read_back(self, station_id: str, request: OcppModel, response: OcppModel) -> None:
        """Read back what the request changed at the station."""
        if isinstance(request, SetChargingProfileRequest) and isinstance(response, SetChargingProfileResponse):
            if response.status is ChargingProfileStatus.ACCEPTED:
                await self._profiles_changed(station_id, request.evse_id)
        elif isinstance(request, ClearChargingProfileRequest) and isinstance(response, ClearChargingProfileResponse):
            criteria = request.charging_profile_criteria
            if response.status is ClearChargingProfileStatus.ACCEPTED:
                evse_id = criteria.evse_id if criteria is not None and criteria.evse_id is not None else 0
                await self._profiles_changed(station_id, evse_id)
        elif isinstance(request, SetVariablesRequest) and isinstance(response, SetVariablesResponse):
            await self._variables_written(station_id, request, response)
