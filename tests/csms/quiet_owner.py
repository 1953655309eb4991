"""An owner of the central system that needs to hear nothing: for tests that only run stations through it."""

from __future__ import annotations

from custom_components.ocpp_csms.csms.station import Station


class QuietOwner:
    """The CentralSystemEvents of a test that checks what the stations see and what is logged, not the events."""

    def station_connected(self, station: Station) -> None:
        """Nothing to do."""

    def station_disconnected(self, station: Station) -> None:
        """Nothing to do."""

    def station_booted(self, station: Station) -> None:
        """Nothing to do."""

    def approval_requested(self, station: Station) -> None:
        """Nothing to do."""

    def connector_status_changed(self, station: Station, evse_id: int, connector_id: int) -> None:
        """Nothing to do."""
