"""Reservations (H): ReserveNow and CancelReservation from Home Assistant, and how each reservation ends.

`async_reserve` reserves an EVSE, or any EVSE of a station (of a connector type) for an ID token until a moment
(H01); `async_cancel` cancels one (H02). A reservation ends when a transaction uses it (its TransactionEvent carries
the reservationId: `reservation_used`, H01.FR.15), when the station reports it Expired or Removed
(ReservationStatusUpdate, H04.FR.01, H01.FR.16-17) or when its expiry passes while the station is away. Each end
updates the EVSE's *Reservation* sensor and fires the station's *Reservation ended* event. A station without
reservations (no ReservationCtrlr, or one that answers NotImplemented) gets a translated error, not a timeout.
"""

from __future__ import annotations

from datetime import UTC, datetime
import logging
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .context import StationContext
from .csms.station import Station
from .helpers import refused, station_error, translated_errors, user_error
from .protocol.errors import RpcErrorCode
from .protocol.model import OcppModel
from .protocol.session import CallErrorResponse
from .protocol.v201.datatypes import IdToken
from .protocol.v201.enums import (
    CancelReservationStatus,
    Connector,
    IdTokenEnum,
    ReservationUpdateStatus,
    ReserveNowStatus,
)
from .protocol.v201.messages import (
    CancelReservationRequest,
    CancelReservationResponse,
    ReservationStatusUpdateRequest,
    ReservationStatusUpdateResponse,
    ReserveNowRequest,
    ReserveNowResponse,
)
from .signals import ReservationEnded, evse_signal, reservation_signal, station_signal
from .station.local_list import flag
from .station.reservations import Reservation, ReservationBook, ReservationEnd

_LOGGER = logging.getLogger(__name__)

RESERVATIONS_STORAGE_KEY: Final = f"{DOMAIN}.reservations"
RESERVATIONS_STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0
#: The CALLERRORs of a station that does not implement reservations.
NOT_IMPLEMENTED: Final = frozenset({RpcErrorCode.NOT_IMPLEMENTED, RpcErrorCode.NOT_SUPPORTED})
#: ReservationStatusUpdate's statuses, as ends.
UPDATE_ENDS: Final = {
    ReservationUpdateStatus.EXPIRED: ReservationEnd.EXPIRED,
    ReservationUpdateStatus.REMOVED: ReservationEnd.REMOVED,
}


class StationReservations:
    """The reservations of one config entry's stations."""

    def __init__(self, context: StationContext, store: Store[dict[str, Any]], book: ReservationBook) -> None:
        """Serve ReservationStatusUpdate; `book` is what was stored (`async_load_book`)."""
        self.context = context
        self.store = store
        self.book = book
        self._expiry: CALLBACK_TYPE | None = None
        context.central.handle(ReservationStatusUpdateRequest, self._status_update)

    @staticmethod
    def reservation_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
        """Where reservations are kept."""
        return Store(hass, RESERVATIONS_STORAGE_VERSION, RESERVATIONS_STORAGE_KEY, private=True, atomic_writes=True)

    @staticmethod
    async def async_load_book(store: Store[dict[str, Any]]) -> ReservationBook:
        """The stored reservations."""
        data = await store.async_load()
        return ReservationBook.from_dict(data) if data else ReservationBook()

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """End reservations whose expiry passed meanwhile, and each at its expiry; undo with the result."""
        self._expire()

        @callback
        def stop() -> None:
            if self._expiry is not None:
                self._expiry()
                self._expiry = None

        return stop

    def at(self, station_id: str, evse_id: int) -> Reservation | None:
        """The reservation of an EVSE (0: of no particular EVSE of the station) that ends first."""
        found = self.book.at(station_id, evse_id or None)
        return found[0] if found else None

    # ---- from Home Assistant ----------------------------------------------------------------------------

    async def async_reserve(
        self,
        station_id: str,
        *,
        evse_id: int | None,
        connector_type: Connector | None,
        id_token: IdToken,
        group_id: str | None,
        expires_at: datetime,
    ) -> Reservation:
        """ReserveNow (H01); the reservation, or a translated error when the station refuses or cannot."""
        if expires_at <= datetime.now(UTC):
            raise user_error("reservation_in_the_past")
        self._check_support(station_id)
        reservation = Reservation(
            id=self.book.new_id(),
            station_id=station_id,
            evse_id=evse_id,
            connector_type=connector_type,
            id_token=id_token.id_token,
            token_type=id_token.type,
            group_id=group_id,
            expires_at=expires_at,
        )
        request = ReserveNowRequest(
            id=reservation.id,
            expiry_date_time=expires_at,
            id_token=id_token,
            evse_id=evse_id,
            connector_type=connector_type,
            group_id_token=IdToken(id_token=group_id, type=IdTokenEnum.CENTRAL) if group_id else None,
        )
        response = await self._call(station_id, request, ReserveNowResponse)
        if response.status is not ReserveNowStatus.ACCEPTED:
            raise refused(station_id, "ReserveNow", response.status.value)
        self.book.add(reservation)
        self._changed(reservation)
        _LOGGER.debug("%s: reservation %d accepted (EVSE %s)", station_id, reservation.id, evse_id)
        return reservation

    async def async_cancel(self, reservation_id: int) -> Reservation:
        """CancelReservation (H02); the cancelled reservation, or a translated error."""
        reservation = self.book.get(reservation_id)
        if reservation is None:
            raise user_error("unknown_reservation", reservation=str(reservation_id))
        response = await self._call(
            reservation.station_id, CancelReservationRequest(reservation_id=reservation_id), CancelReservationResponse
        )
        if response.status is not CancelReservationStatus.ACCEPTED:
            # H02.FR.01: the station does not know it (any more): it is no reservation there.
            self._end(reservation_id, ReservationEnd.REMOVED)
            raise refused(reservation.station_id, "CancelReservation", response.status.value)
        self._end(reservation_id, ReservationEnd.CANCELLED)
        return reservation

    def _check_support(self, station_id: str) -> None:
        """A station whose device model says it has no reservations gets a translated error at once."""
        self.context.connected(station_id)
        runtime = self.context.runtimes.get(station_id)
        if runtime is None or not runtime.has_inventory:
            return  # not known yet: the station's answer tells
        model = runtime.device_model
        if flag(model, "ReservationCtrlr", "Available") is False or (
            model.find("ReservationCtrlr", "Available") is None and model.find("ReservationCtrlr", "Enabled") is None
        ):
            raise station_error("reservations_not_supported", station_id)
        if flag(model, "ReservationCtrlr", "Enabled") is False:
            raise station_error("reservations_disabled", station_id)

    async def _call[Resp: OcppModel](self, station_id: str, request: OcppModel, response: type[Resp]) -> Resp:
        station = self.context.connected(station_id)
        with translated_errors(station_id):
            try:
                return await station.session.call(request, response)
            except CallErrorResponse as err:
                if err.code in NOT_IMPLEMENTED:  # no timeout, no generic error: it has no reservations
                    raise station_error("reservations_not_supported", station_id) from err
                raise

    # ---- from the station -------------------------------------------------------------------------------

    async def _status_update(
        self, station: Station, request: ReservationStatusUpdateRequest
    ) -> ReservationStatusUpdateResponse:
        """ReservationStatusUpdate (H04): the reservation expired or was removed."""
        reservation = self.book.get(request.reservation_id)
        if reservation is not None and reservation.station_id == station.station_id:
            self._end(request.reservation_id, UPDATE_ENDS[request.reservation_update_status])
        else:
            _LOGGER.debug("%s: update of unknown reservation %d", station.station_id, request.reservation_id)
        return ReservationStatusUpdateResponse()

    @callback
    def reservation_used(self, station_id: str, reservation_id: int) -> None:
        """A transaction of the station used the reservation (H01.FR.15, H03.FR.09)."""
        reservation = self.book.get(reservation_id)
        if reservation is not None and reservation.station_id == station_id:
            self._end(reservation_id, ReservationEnd.USED)

    # ---- bookkeeping ------------------------------------------------------------------------------------

    @callback
    def _end(self, reservation_id: int, how: ReservationEnd) -> None:
        reservation = self.book.end(reservation_id)
        if reservation is None:
            return
        _LOGGER.debug("%s: reservation %d %s", reservation.station_id, reservation_id, how)
        self._changed(reservation)
        self.context.signal(
            reservation_signal(self.context.entry_id, reservation.station_id), ReservationEnded(reservation, how)
        )

    @callback
    def _changed(self, reservation: Reservation) -> None:
        self.store.async_delay_save(self.book.to_dict, SAVE_DELAY)
        entry_id, station_id = self.context.entry_id, reservation.station_id
        if reservation.evse_id:
            self.context.signal(evse_signal(entry_id, station_id, reservation.evse_id))
        else:  # a reservation of no particular EVSE is shown on the station
            self.context.signal(station_signal(entry_id, station_id))
        self._arm_expiry()

    @callback
    def _arm_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry()
            self._expiry = None
        if (when := self.book.next_expiry()) is not None:
            self._expiry = async_track_point_in_utc_time(self.context.hass, self._expire, when)

    @callback
    def _expire(self, _now: datetime | None = None) -> None:
        """Reservations past their expiry are over, reported by the station or not (it may be away)."""
        self._expiry = None
        for reservation in self.book.expired(datetime.now(UTC)):
            self._end(reservation.id, ReservationEnd.EXPIRED)
        self._arm_expiry()

    async def async_save_now(self) -> None:
        """Write the reservations at once (on unload)."""
        await self.store.async_save(self.book.to_dict())
