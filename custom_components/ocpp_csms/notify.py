"""The station's display as a notify entity (O01, O04): `notify.send_message` shows the text on the charger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import override

from homeassistant.components.notify import NotifyEntity, NotifyEntityDescription
from homeassistant.components.notify.const import NotifyEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from .entity import OcppEntity, OcppEntityDescription, StationView
from .platform import async_add_station_entities
from .runtime_data import OcppCsmsConfigEntry
from .signals import variables_signal

PARALLEL_UPDATES = 1


def _display_available(view: StationView) -> bool:
    """While the station is connected and not known to lack a display."""
    return view.connected and view.data.display.has_display(view.station_id)


@dataclass(frozen=True, kw_only=True)
class OcppNotifyEntityDescription(NotifyEntityDescription, OcppEntityDescription):
    """The station's display."""


DISPLAY = OcppNotifyEntityDescription(key="display", translation_key="display", available_fn=_display_available)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the display of every trusted station."""
    async_add_station_entities(entry, async_add_entities, OcppDisplayNotify, (DISPLAY,))


class OcppDisplayNotify(OcppEntity, NotifyEntity):
    """A message on the station's display (SetDisplayMessage with the display's defaults; each replaces the last)."""

    entity_description: OcppNotifyEntityDescription
    _attr_supported_features = NotifyEntityFeature.TITLE

    @override
    def update_signals(self) -> tuple[SignalType[()], ...]:
        """The station's, and its variables' (an inventory says whether it has a display)."""
        return (*super().update_signals(), variables_signal(self.data.context.entry_id, self.station_id))

    @override
    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Show the message (a title goes before it)."""
        text = f"{title}: {message}" if title else message
        await self.data.display.async_notify(self.station_id, text)
