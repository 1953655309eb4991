"""A station's diagnostics or security log, uploaded to Home Assistant (N01).

The `get_log` action sends GetLog with a one-time upload URL of Home Assistant's own HTTP server
(`file_transfer.py`) and waits for the station's LogStatusNotifications (N01.FR.07: with the request's requestId)
until the upload ends. An uploaded log is stored below the config folder; the action answers with its file and a
download link for the administrator who ran it, and a persistent notification says the same. A refused request, a
failed or refused upload (too large), or no upload in time is a translated error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import callback

from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .file_transfer import StoredLog, UploadRefusedError
from .helpers import refused, station_error, transfer_protocol_unsupported
from .protocol.v201.datatypes import LogParameters
from .protocol.v201.enums import Log, LogStatus, UploadLogStatus
from .protocol.v201.messages import (
    GetLogRequest,
    GetLogResponse,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
)
from .station.firmware import protocol_of, transfer_protocols

_LOGGER = logging.getLogger(__name__)

#: How long an upload URL stays valid beyond the time the action waits.
UPLOAD_GRACE: Final = timedelta(minutes=1)
#: The statuses that end an upload (N01.FR.09-10, N01.FR.20).
FINAL_STATUSES: Final = frozenset(
    {
        UploadLogStatus.UPLOADED,
        UploadLogStatus.UPLOAD_FAILURE,
        UploadLogStatus.BAD_MESSAGE,
        UploadLogStatus.PERMISSION_DENIED,
        UploadLogStatus.NOT_SUPPORTED_OPERATION,
        UploadLogStatus.ACCEPTED_CANCELED,
    }
)

type ExpectUpload = Callable[[str, int, timedelta], tuple[str, asyncio.Future[StoredLog], Callable[[], None]]]
"""A one-time upload URL for (station, requestId, lifetime): the URL, the stored log's future, a withdraw callable."""
type SignedUrl = Callable[[StoredLog], str | None]
"""A download link of a stored log for the administrator running the action (None: no such user)."""


class StationLogs(StationListener):
    """Log uploads of one config entry's stations."""

    def __init__(
        self,
        context: StationContext,
        *,
        base_url: Callable[[], str],
        expect_upload: ExpectUpload,
        signed_url: SignedUrl,
    ) -> None:
        """Serve LogStatusNotification; `base_url` is Home Assistant's URL as stations reach it."""
        self.context = context
        self._base_url = base_url
        self._expect_upload = expect_upload
        self._signed_url = signed_url
        #: Uploads being waited for: (station, requestId) → the future of their final status.
        self._waiting: dict[tuple[str, int], asyncio.Future[UploadLogStatus]] = {}
        #: The last status each station reported, for diagnostics.
        self.last_status: dict[str, str] = {}
        context.central.handle(LogStatusNotificationRequest, self._log_status)

    async def async_get_log(
        self,
        station_id: str,
        log_type: Log,
        *,
        oldest: datetime | None = None,
        latest: datetime | None = None,
        retries: int | None = None,
        retry_interval: int | None = None,
        wait: float = 300.0,
    ) -> dict[str, Any]:
        """GetLog (N01), and wait for the upload; the stored log's name, size and download link."""
        self.context.connected(station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        request_id = runtime.request_id()
        supported = transfer_protocols(runtime.device_model)
        if supported and (protocol := protocol_of(self._base_url())) not in supported:
            raise transfer_protocol_unsupported(station_id, protocol, supported)
        url, stored, withdraw = self._expect_upload(station_id, request_id, timedelta(seconds=wait) + UPLOAD_GRACE)
        final = self._waiting[station_id, request_id] = self.context.hass.loop.create_future()
        try:
            response = await self.context.call(
                station_id,
                GetLogRequest(
                    log=LogParameters(remote_location=url, oldest_timestamp=oldest, latest_timestamp=latest),
                    log_type=log_type,
                    request_id=request_id,
                    retries=retries,
                    retry_interval=retry_interval,
                ),
                GetLogResponse,
            )
            if response.status is LogStatus.REJECTED:
                raise refused(station_id, "GetLog", response.status.value)
            try:
                async with asyncio.timeout(wait):
                    status = await final
            except TimeoutError as err:
                raise station_error("log_timeout", station_id, seconds=f"{wait:g}") from err
            received = stored.done() and not stored.cancelled()
            refusal = stored.exception() if received else None
            if isinstance(refusal, UploadRefusedError) and refusal.reason == "too_large":
                raise station_error("log_too_large", station_id, bytes=str(refusal.limit))
            if status is not UploadLogStatus.UPLOADED:
                raise station_error("log_upload_failed", station_id, status=status.value)
            if not received or refusal is not None:  # Uploaded, but not to Home Assistant (or not whole)
                raise station_error("log_not_received", station_id)
            log = stored.result()
        finally:
            self._waiting.pop((station_id, request_id), None)
            withdraw()
        link = self._signed_url(log)
        self._notify(station_id, log_type, log, link)
        return {
            "status": UploadLogStatus.UPLOADED.value,
            "request_id": request_id,
            "filename": log.path.name,
            "station_filename": response.filename,
            "size": log.size,
            "path": str(log.path.relative_to(self.context.hass.config.config_dir)),
            "url": link or log.url_path,
        }

    @callback
    def _notify(self, station_id: str, log_type: Log, log: StoredLog, link: str | None) -> None:
        """A persistent notification with the log's download link (or, without one, its place)."""
        where = f"`{log.path.relative_to(self.context.hass.config.config_dir)}` in the configuration folder"
        download = (
            f"[Download {log.path.name}]({link}) (link valid for a day), or find it as {where}."
            if link
            else (f"Administrators find it as {where}, or download it from `{log.url_path}` with their access token.")
        )
        persistent_notification.async_create(
            self.context.hass,
            f"Station {station_id} uploaded its {log_type.value} ({log.size} bytes). {download}",
            title=f"OCPP: log of {station_id}",
            notification_id=f"ocpp_csms_log_{station_id}",
        )

    async def _log_status(
        self, station: Station, request: LogStatusNotificationRequest
    ) -> LogStatusNotificationResponse:
        """Follow an upload (N01.FR.08-10)."""
        station_id = station.station_id
        self.last_status[station_id] = request.status.value
        _LOGGER.debug("%s: log upload %s (request %s)", station_id, request.status, request.request_id)
        if request.status in FINAL_STATUSES and request.request_id is not None:
            waiting = self._waiting.get((station_id, request.request_id))
            if waiting is not None and not waiting.done():
                waiting.set_result(request.status)
        return LogStatusNotificationResponse()
