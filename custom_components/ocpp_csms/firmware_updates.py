"""Firmware updates (L01, L02): offered by the user, sent with UpdateFirmware, followed through the station's reports.

The user offers a firmware with the `update_firmware` action: a URL the station downloads from, or a file below the
config folder that Home Assistant serves at a URL of its own (`file_transfer.py`), with the version it brings, an
optional signing certificate and signature (L01), install time and retries. The offer shows on the station's update
entity (kept across restarts) and is sent at once or when the user installs it there.

FirmwareStatusNotification (L01.FR.01, L01.FR.10: with the update's requestId) drives the entity's progress and
the station's firmware status sensor; a failure (DownloadFailed, InvalidSignature, InstallationFailed,
InstallVerificationFailed) opens a repair naming it, and InvalidSignature is logged as the security event it is
(InvalidFirmwareSignature). After Installed the offer is done; the new version comes with the next
BootNotification, after which the inventory is read again (a new firmware, `inventory.py`).

PublishFirmwareStatusNotification (L03) only comes from a local controller, which this central system never asks to
publish firmware: it is acknowledged and logged.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .helpers import refused, transfer_protocol_unsupported, translated_errors, user_error
from .protocol.v201.datatypes import Firmware
from .protocol.v201.enums import FirmwareStatus, UpdateFirmwareStatus
from .protocol.v201.messages import (
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    PublishFirmwareStatusNotificationRequest,
    PublishFirmwareStatusNotificationResponse,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
)
from .signals import station_signal
from .station.firmware import FirmwareOffer, FirmwareUpdate, protocol_of, transfer_protocols

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.firmware"
STORAGE_VERSION: Final = 1
#: How long Home Assistant serves a firmware file after its retrieve time (the station may retry meanwhile).
FIRMWARE_URL_LIFETIME: Final = timedelta(hours=24)
#: Once the station reports one of these, it has the file (or gave up): its URL is withdrawn.
_STILL_DOWNLOADING: Final = frozenset(
    {FirmwareStatus.DOWNLOAD_SCHEDULED, FirmwareStatus.DOWNLOADING, FirmwareStatus.DOWNLOAD_PAUSED}
)
#: The security event a station sends with InvalidSignature (L01.FR.03).
INVALID_SIGNATURE_EVENT: Final = "InvalidFirmwareSignature"

type ResolveFile = Callable[[str], Coroutine[Any, Any, Path]]
"""The firmware file a user named (relative to the config folder), checked; raises a translated error."""
type ServeFile = Callable[[Path, timedelta], tuple[str, Callable[[], None]]]
"""Serves a file at a new URL for a while: the URL, and a callable that withdraws it."""


def firmware_issue_id(station_id: str) -> str:
    """The repair issue of a station's failed firmware update."""
    return f"firmware_failed_{station_id}"


class FirmwareUpdates(StationListener):
    """The firmware offers and updates of one config entry's stations."""

    def __init__(
        self,
        context: StationContext,
        store: Store[dict[str, Any]],
        offers: dict[str, FirmwareOffer],
        *,
        resolve_file: ResolveFile,
        serve_file: ServeFile,
    ) -> None:
        """Serve FirmwareStatusNotification and PublishFirmwareStatusNotification; the offers come from `store`."""
        self.context = context
        self._store = store
        self._offers = offers
        self._resolve_file = resolve_file
        self._serve_file = serve_file
        self._updates: dict[str, FirmwareUpdate] = {}
        #: Withdraws the URL of a station's update in progress.
        self._withdraw: dict[str, Callable[[], None]] = {}
        context.central.handle(FirmwareStatusNotificationRequest, self._firmware_status)
        context.central.handle(PublishFirmwareStatusNotificationRequest, self._publish_firmware_status)

    @staticmethod
    def offers_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
        """Where the offers are kept."""
        return Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True)

    @staticmethod
    async def async_load_offers(store: Store[dict[str, Any]]) -> dict[str, FirmwareOffer]:
        """The offers kept."""
        data = await store.async_load() or {}
        return {station_id: FirmwareOffer.from_dict(item) for station_id, item in data.get("offers", {}).items()}

    # ---- what the entities show ---------------------------------------------------------------------------

    def offer(self, station_id: str) -> FirmwareOffer | None:
        """The firmware offered to the station, not installed yet."""
        return self._offers.get(station_id)

    def update(self, station_id: str) -> FirmwareUpdate | None:
        """The station's last firmware update in this run."""
        return self._updates.get(station_id)

    def status(self, station_id: str) -> FirmwareStatus | None:
        """The last status the station reported of its update."""
        update = self._updates.get(station_id)
        return update.status if update is not None else None

    # ---- offering and installing ----------------------------------------------------------------------------

    async def async_offer(self, station_id: str, offer: FirmwareOffer, *, install: bool) -> dict[str, Any]:
        """Offer a firmware (shown on the update entity); with `install`, send it at once."""
        if offer.file is not None:
            await self._resolve_file(offer.file)  # a file that cannot be served is refused now
        self._offers[station_id] = offer
        self._save()
        self._signal(station_id)
        if not install:
            return {"status": "Offered", "version": offer.version}
        return await self.async_install(station_id)

    async def async_install(self, station_id: str) -> dict[str, Any]:
        """Send the offered firmware with UpdateFirmware (L01, L02); the station's answer and the requestId."""
        offer = self._offers.get(station_id)
        if offer is None:
            raise user_error("no_firmware_offered", station=station_id)
        self.context.connected(station_id)
        now = datetime.now(UTC)
        retrieve_at = offer.retrieve_at if offer.retrieve_at is not None and offer.retrieve_at > now else now
        location, withdraw = offer.url or "", _nothing
        if offer.file is not None:
            path = await self._resolve_file(offer.file)
            location, withdraw = self._serve_file(path, FIRMWARE_URL_LIFETIME + (retrieve_at - now))
        runtime = await self.context.runtimes.async_get(station_id)
        supported = transfer_protocols(runtime.device_model)
        if supported and protocol_of(location) not in supported:
            withdraw()
            raise transfer_protocol_unsupported(station_id, protocol_of(location), supported)
        request_id = runtime.request_id()
        try:
            with translated_errors(station_id):
                request = UpdateFirmwareRequest(
                    request_id=request_id,
                    retries=offer.retries,
                    retry_interval=offer.retry_interval,
                    firmware=Firmware(
                        location=location,
                        retrieve_date_time=retrieve_at,
                        install_date_time=offer.install_at,
                        signing_certificate=offer.signing_certificate,
                        signature=offer.signature,
                    ),
                )
            response = await self.context.call(station_id, request, UpdateFirmwareResponse)
        except BaseException:
            withdraw()
            raise
        if response.status not in (UpdateFirmwareStatus.ACCEPTED, UpdateFirmwareStatus.ACCEPTED_CANCELED):
            withdraw()
            raise refused(station_id, "UpdateFirmware", response.status.value)
        if (previous := self._withdraw.pop(station_id, None)) is not None:
            previous()  # AcceptedCanceled: the update before is over (L01.FR.24)
        self._withdraw[station_id] = withdraw
        self._updates[station_id] = FirmwareUpdate(request_id=request_id, version=offer.version, started_at=now)
        ir.async_delete_issue(self.context.hass, DOMAIN, firmware_issue_id(station_id))
        _LOGGER.info(
            "%s: firmware %s sent (UpdateFirmware %d: %s)", station_id, offer.version, request_id, response.status
        )
        self._signal(station_id)
        return {"status": response.status.value, "request_id": request_id}

    # ---- what the station reports ---------------------------------------------------------------------------

    async def _firmware_status(
        self, station: Station, request: FirmwareStatusNotificationRequest
    ) -> FirmwareStatusNotificationResponse:
        """Follow the update (L01.FR.01); an update started before Home Assistant's restart is taken up."""
        station_id = station.station_id
        now = datetime.now(UTC)
        update = self._updates.get(station_id)
        if (
            request.request_id is not None
            and request.status is not FirmwareStatus.IDLE
            and (update is None or (request.request_id != update.request_id and not update.in_progress))
        ):
            update = self._updates[station_id] = FirmwareUpdate(
                request_id=request.request_id, version=None, started_at=now
            )
        if update is not None and update.apply(request.status, request.request_id, now):
            self._status_changed(station_id, update)
        else:
            _LOGGER.debug("%s: firmware status %s (request %s)", station_id, request.status, request.request_id)
        return FirmwareStatusNotificationResponse()

    @callback
    def _status_changed(self, station_id: str, update: FirmwareUpdate) -> None:
        status = update.status
        if status not in _STILL_DOWNLOADING and (withdraw := self._withdraw.pop(station_id, None)) is not None:
            withdraw()
        if status is FirmwareStatus.INSTALL_REBOOTING and (station := self.context.central.stations.get(station_id)):
            station.reboot_requested = datetime.now(UTC)  # its ResetOrReboot security event is then expected
        if update.failed and status is not None:
            if status is FirmwareStatus.INVALID_SIGNATURE:
                _LOGGER.warning(
                    "%s: the firmware's signature is invalid (security event %s); it is not installed",
                    station_id,
                    INVALID_SIGNATURE_EVENT,
                )
            else:
                _LOGGER.warning("%s: firmware update failed: %s", station_id, status)
            ir.async_create_issue(
                self.context.hass,
                DOMAIN,
                firmware_issue_id(station_id),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="firmware_failed",
                translation_placeholders={"station": station_id, "status": status.value},
            )
        elif update.installed:
            ir.async_delete_issue(self.context.hass, DOMAIN, firmware_issue_id(station_id))
            offer = self._offers.get(station_id)
            if offer is not None and update.version in (None, offer.version):
                del self._offers[station_id]
                self._save()
            _LOGGER.info("%s: firmware %s installed", station_id, update.version or "update")
        else:
            _LOGGER.debug("%s: firmware update %d: %s", station_id, update.request_id, status)
        self._signal(station_id)

    async def _publish_firmware_status(
        self, station: Station, request: PublishFirmwareStatusNotificationRequest
    ) -> PublishFirmwareStatusNotificationResponse:
        """A local controller's publishing status (L03.FR.01): this central system never asks it to publish."""
        _LOGGER.info("%s: firmware publishing status %s (not asked for)", station.station_id, request.status)
        return PublishFirmwareStatusNotificationResponse()

    # ---- housekeeping ---------------------------------------------------------------------------------------

    @callback
    def forget_station(self, station_id: str) -> None:
        """A forgotten station's offer, update and repair go."""
        if self._offers.pop(station_id, None) is not None:
            self._save()
        self._updates.pop(station_id, None)
        if (withdraw := self._withdraw.pop(station_id, None)) is not None:
            withdraw()
        ir.async_delete_issue(self.context.hass, DOMAIN, firmware_issue_id(station_id))

    def diagnostics(self, station_id: str) -> dict[str, Any]:
        """What diagnostics show of the station's firmware (the offer's certificate and signature redacted)."""
        offer = self._offers.get(station_id)
        update = self._updates.get(station_id)
        return {
            "offer": offer.to_dict() if offer else None,
            "update": update.to_dict() if update else None,
        }

    @callback
    def _save(self) -> None:
        self._store.async_delay_save(
            lambda: {"offers": {station_id: offer.to_dict() for station_id, offer in self._offers.items()}}, 1.0
        )

    async def async_save_now(self) -> None:
        """Write the offers at once (on unload)."""
        await self._store.async_save(
            {"offers": {station_id: offer.to_dict() for station_id, offer in self._offers.items()}}
        )

    @callback
    def _signal(self, station_id: str) -> None:
        self.context.signal(station_signal(self.context.entry_id, station_id))


def _nothing() -> None:
    """No URL to withdraw (the firmware is not served by Home Assistant)."""
