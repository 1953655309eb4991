"""A station's firmware update as its FirmwareStatusNotifications tell it (L01, L02).

After UpdateFirmware the station reports every state it enters (L01.FR.01), each with the request's requestId
(L01.FR.10): downloading, downloaded, the signature verified, installing, rebooting, and Installed from the new
firmware (L01.FR.32), or one of the failures. `FirmwareUpdate` follows one update: whether it is in progress, how
far it got, and how it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ..protocol.v201.enums import FirmwareStatus
from .device_model import DeviceModel

#: The statuses of an update on its way, and how far along it is then (percent, for the update entity).
PROGRESS: Final[dict[FirmwareStatus, int]] = {
    FirmwareStatus.DOWNLOAD_SCHEDULED: 0,
    FirmwareStatus.DOWNLOAD_PAUSED: 10,
    FirmwareStatus.DOWNLOADING: 10,
    FirmwareStatus.DOWNLOADED: 40,
    FirmwareStatus.SIGNATURE_VERIFIED: 50,
    FirmwareStatus.INSTALL_SCHEDULED: 55,
    FirmwareStatus.INSTALLING: 60,
    FirmwareStatus.INSTALL_REBOOTING: 80,
}
#: The statuses an update ends with when it fails.
FAILURES: Final = frozenset(
    {
        FirmwareStatus.DOWNLOAD_FAILED,
        FirmwareStatus.INVALID_SIGNATURE,
        FirmwareStatus.INSTALLATION_FAILED,
        FirmwareStatus.INSTALL_VERIFICATION_FAILED,
    }
)


@dataclass(slots=True)
class FirmwareUpdate:
    """One firmware update the central system asked a station for, and the last status it reported of it."""

    request_id: int
    version: str | None
    started_at: datetime
    status: FirmwareStatus | None = None
    updated_at: datetime | None = None

    @property
    def in_progress(self) -> bool:
        """Whether the update is on its way (sent, or in a status of PROGRESS)."""
        return self.status is None or self.status in PROGRESS

    @property
    def progress(self) -> int | None:
        """How far along it is, in percent, while in progress."""
        if self.status is None:
            return 0
        return PROGRESS.get(self.status)

    @property
    def failed(self) -> bool:
        """Whether it ended with a failure."""
        return self.status in FAILURES

    @property
    def installed(self) -> bool:
        """Whether it ended with the new firmware installed."""
        return self.status is FirmwareStatus.INSTALLED

    def apply(self, status: FirmwareStatus, request_id: int | None, at: datetime) -> bool:
        """A FirmwareStatusNotification; whether it concerns this update (L01.FR.10, L01.FR.20: Idle may omit it)."""
        if request_id is not None and request_id != self.request_id:
            return False
        if request_id is None and status is not FirmwareStatus.IDLE:
            return False
        if status is FirmwareStatus.IDLE:
            return False  # nothing going on at the station: what we know of the update stands
        self.status = status
        self.updated_at = at
        return True

    def to_dict(self) -> dict[str, object]:
        """For diagnostics."""
        return {
            "request_id": self.request_id,
            "version": self.version,
            "status": self.status.value if self.status else None,
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareOffer:
    """A firmware the user offered a station: where it is, what version it brings, how to install it.

    Exactly one of `url` (the station downloads it from there) and `file` (below Home Assistant's config folder,
    served by Home Assistant) is set.
    """

    version: str
    url: str | None = None
    file: str | None = None
    signing_certificate: str | None = None
    signature: str | None = None
    retries: int | None = None
    retry_interval: int | None = None
    install_at: datetime | None = None
    retrieve_at: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (stored, and in diagnostics with the certificate and signature redacted)."""
        return {
            "version": self.version,
            "url": self.url,
            "file": self.file,
            "signing_certificate": self.signing_certificate,
            "signature": self.signature,
            "retries": self.retries,
            "retry_interval": self.retry_interval,
            "install_at": self.install_at.isoformat() if self.install_at else None,
            "retrieve_at": self.retrieve_at.isoformat() if self.retrieve_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FirmwareOffer:
        """The inverse of `to_dict`."""
        return cls(
            version=str(data["version"]),
            url=data.get("url"),
            file=data.get("file"),
            signing_certificate=data.get("signing_certificate"),
            signature=data.get("signature"),
            retries=data.get("retries"),
            retry_interval=data.get("retry_interval"),
            install_at=datetime.fromisoformat(data["install_at"]) if data.get("install_at") else None,
            retrieve_at=datetime.fromisoformat(data["retrieve_at"]) if data.get("retrieve_at") else None,
        )


def transfer_protocols(model: DeviceModel) -> tuple[str, ...]:
    """The protocols the station transfers files with (OCPPCommCtrlr.FileTransferProtocols); () if unknown."""
    info = model.find("OCPPCommCtrlr", "FileTransferProtocols")
    return tuple(item.strip().upper() for item in (info.value or "").split(",") if item.strip()) if info else ()


def protocol_of(url: str) -> str:
    """A URL's scheme as FileTransferProtocols names it (`https://...` → HTTPS)."""
    return url.partition(":")[0].upper()
