"""Remote commands of the control surface (F, G, B11-B12, P): each a typed CALL with a translated failure.

A refusal by the station (status Rejected, UnlockFailed, ...) raises a HomeAssistantError naming what it answered;
a station that does not answer or is not connected raises the session's translated error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from homeassistant.core import callback

from .const import DEFAULT_REMOTE_ID_TOKEN, DOMAIN
from .context import StationContext
from .csms.station import TRIGGERED_REQUEST, Station
from .helpers import refused, station_error, user_error
from .protocol.v201.datatypes import EVSE, ChargingProfile, IdToken
from .protocol.v201.enums import (
    ChangeAvailabilityStatus,
    ChargingRateUnit,
    DataTransferStatus,
    IdTokenEnum,
    MessageTrigger,
    OperationalStatus,
    RequestStartStopStatus,
    Reset,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
)
from .protocol.v201.messages import (
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
    DataTransferRequest,
    DataTransferResponse,
    GetTransactionStatusRequest,
    GetTransactionStatusResponse,
    RequestStartTransactionRequest,
    RequestStartTransactionResponse,
    RequestStopTransactionRequest,
    RequestStopTransactionResponse,
    ResetRequest,
    ResetResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
    UnlockConnectorRequest,
    UnlockConnectorResponse,
)
from .signals import station_signal

DATA_TRANSFER_EVENT: Final = f"{DOMAIN}_data_transfer"


class StationCommands:
    """The commands a user or automation sends to stations of one config entry."""

    def __init__(
        self,
        context: StationContext,
        *,
        remote_id_token: str = DEFAULT_REMOTE_ID_TOKEN,
        allow_remote_start: Callable[[str, IdToken], None],
        start_profile: Callable[[str, int, float, ChargingRateUnit], ChargingProfile],
    ) -> None:
        """Serve vendor messages (they fire an event); remote starts as described below.

        Remote starts use `remote_id_token` (Central) unless given another, accepted with `allow_remote_start` for
        that start; `start_profile` makes the TxProfile a start may carry.
        """
        self.context = context
        self.remote_id_token = remote_id_token
        self._allow_remote_start = allow_remote_start
        self._start_profile = start_profile
        self._remote_start_id = 0
        context.central.handle(DataTransferRequest, self._data_transfer_from_station)

    async def async_start(
        self,
        station_id: str,
        evse_id: int,
        id_token: str | None = None,
        token_type: IdTokenEnum | None = None,
        limit: tuple[float, ChargingRateUnit] | None = None,
    ) -> str | None:
        """RequestStartTransaction (F01); the transaction id, if the station gives one.

        The token is `id_token` of `token_type` (default: the configured remote token, Central); with `limit`, the
        start carries a TxProfile with that limit for the transaction (F01.FR.08, K05).
        """
        self.context.connected(station_id)
        token = IdToken(
            id_token=id_token or self.remote_id_token,
            type=token_type or IdTokenEnum.CENTRAL,
        )
        profile = self._start_profile(station_id, evse_id, *limit) if limit is not None and evse_id else None
        self._remote_start_id += 1
        self._allow_remote_start(station_id, token)  # its transaction is authorized (F01.FR.03)
        response = await self.context.call(
            station_id,
            RequestStartTransactionRequest(
                id_token=token,
                remote_start_id=self._remote_start_id,
                evse_id=evse_id or None,
                charging_profile=profile,
            ),
            RequestStartTransactionResponse,
        )
        if response.status is not RequestStartStopStatus.ACCEPTED:
            raise refused(station_id, "RequestStartTransaction", response.status.value)
        return response.transaction_id

    async def async_stop(self, station_id: str, evse_id: int) -> None:
        """RequestStopTransaction (F03) of the EVSE's running transaction."""
        runtime = self.context.runtimes.get(station_id)
        transaction_id = runtime.transactions.evse(evse_id).transaction_id if runtime else None
        if transaction_id is None:
            raise station_error("no_transaction", station_id, evse=str(evse_id))
        response = await self.context.call(
            station_id, RequestStopTransactionRequest(transaction_id=transaction_id), RequestStopTransactionResponse
        )
        if response.status is not RequestStartStopStatus.ACCEPTED:
            raise refused(station_id, "RequestStopTransaction", response.status.value)

    async def async_change_availability(
        self, station_id: str, evse_id: int, operative: bool, connector_id: int | None = None
    ) -> str:
        """ChangeAvailability (G03, G04) of an EVSE, one of its connectors, or (EVSE 0) the station.

        Accepted or Scheduled; a refusal raises.
        """
        evse = EVSE(id=evse_id, connector_id=connector_id) if evse_id else None
        response = await self.context.call(
            station_id,
            ChangeAvailabilityRequest(
                operational_status=OperationalStatus.OPERATIVE if operative else OperationalStatus.INOPERATIVE,
                evse=evse,
            ),
            ChangeAvailabilityResponse,
        )
        if response.status is ChangeAvailabilityStatus.REJECTED:
            raise refused(station_id, "ChangeAvailability", response.status.value)
        station = self.context.central.stations.get(station_id)
        if station is not None and connector_id is None:
            station.operative[evse_id] = operative
            self.context.signal(station_signal(self.context.entry_id, station_id))
        return response.status.value

    async def async_transaction_status(self, station_id: str, transaction_id: str | None) -> dict[str, Any]:
        """GetTransactionStatus (E14): whether the station still queues messages, and whether the transaction runs."""
        response = await self.context.call(
            station_id, GetTransactionStatusRequest(transaction_id=transaction_id), GetTransactionStatusResponse
        )
        return {"messages_in_queue": response.messages_in_queue, "ongoing_indicator": response.ongoing_indicator}

    async def async_reset(self, station_id: str, kind: Reset, evse_id: int | None = None) -> str:
        """Reset (B11, B12), OnIdle or Immediate; Accepted or Scheduled."""
        response = await self.context.call(station_id, ResetRequest(type=kind, evse_id=evse_id), ResetResponse)
        if response.status is ResetStatus.REJECTED:
            raise refused(station_id, "Reset", response.status.value)
        if evse_id is None and (station := self.context.central.stations.get(station_id)) is not None:
            station.reboot_requested = datetime.now(UTC)  # its ResetOrReboot security event is then expected
        return response.status.value

    async def async_unlock(self, station_id: str, evse_id: int, connector_id: int = 1) -> None:
        """UnlockConnector (F05)."""
        response = await self.context.call(
            station_id, UnlockConnectorRequest(evse_id=evse_id, connector_id=connector_id), UnlockConnectorResponse
        )
        if response.status is not UnlockStatus.UNLOCKED:
            raise refused(station_id, "UnlockConnector", response.status.value)

    async def async_trigger(self, station_id: str, message: MessageTrigger, evse_id: int | None = None) -> str:
        """TriggerMessage (F06); the station's answer. Never for a message this central system does not serve."""
        if not self.context.central.serves(TRIGGERED_REQUEST[message]):
            raise user_error("trigger_not_served", message=message.value)
        self.context.connected(station_id).awaited.expect_trigger(message)
        response = await self.context.call(
            station_id,
            TriggerMessageRequest(requested_message=message, evse=EVSE(id=evse_id) if evse_id else None),
            TriggerMessageResponse,
        )
        if response.status is TriggerMessageStatus.REJECTED:
            raise refused(station_id, "TriggerMessage", response.status.value)
        return response.status.value

    async def async_data_transfer(
        self, station_id: str, vendor_id: str, message_id: str | None, data: Any
    ) -> dict[str, Any]:
        """DataTransfer (P01) to the station; its status and data."""
        response = await self.context.call(
            station_id,
            DataTransferRequest(vendor_id=vendor_id, message_id=message_id, data=data),
            DataTransferResponse,
        )
        return {"status": response.status.value, "data": response.data}

    async def _data_transfer_from_station(self, station: Station, request: DataTransferRequest) -> DataTransferResponse:
        """A vendor message from the station (P02): fired as an event; no vendor extension is known here."""
        self._fire(
            {
                "station_id": station.station_id,
                "vendor_id": request.vendor_id,
                "message_id": request.message_id,
                "data": request.data,
            },
        )
        return DataTransferResponse(status=DataTransferStatus.UNKNOWN_VENDOR_ID)

    @callback
    def _fire(self, data: dict[str, Any]) -> None:
        self.context.hass.bus.async_fire(DATA_TRANSFER_EVENT, data)
