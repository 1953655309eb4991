"""The one entity base: an entity of a station, of one of its EVSEs, or of its station-wide cap.

Entities are pushed, never polled: they follow the dispatcher signals of what they show and write their state
only when what they show changed. Their descriptions carry the functions that read the state (`value_fn`, ...),
whether the entity is available (`available_fn`), whether a station gets it (`has_fn`, for the entity detail), and
whether the station can do what it controls (`supported_fn`, asked again when its inventory arrives).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import ChildDeviceInfo, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.util.signal_type import SignalType

from .charging_control import EvseCharging
from .csms.station import Station
from .devices import device_identifier
from .entity_detail import EntityDetail
from .runtime_data import OcppCsmsRuntimeData
from .signals import energy_signal, evse_signal, station_signal
from .station.transactions import EvseSession
from .station_runtime import StationRuntime


def unique_id(station_id: str, evse_id: int, key: str) -> str:
    """The unique id of an entity: of a station (EVSE 0 or below, the station cap) or of one of its EVSEs."""
    return f"{station_id}_evse_{evse_id}_{key}" if evse_id > 0 else f"{station_id}_{key}"


@dataclass(frozen=True, slots=True)
class StationView:
    """What an entity shows: a station (EVSE 0), one of its EVSEs, or its station-wide cap (`STATION_CAP`)."""

    data: OcppCsmsRuntimeData
    station_id: str
    evse_id: int

    @property
    def station(self) -> Station:
        """The central system's object for the station."""
        return self.data.central.station(self.station_id)

    @property
    def connected(self) -> bool:
        """Whether the station is connected."""
        return self.data.context.is_connected(self.station_id)

    @property
    def runtime(self) -> StationRuntime | None:
        """What Home Assistant keeps of the station (None until it is loaded)."""
        return self.data.runtimes.get(self.station_id)

    @property
    def session(self) -> EvseSession:
        """The EVSE's charging session and meter (an empty one when there is none)."""
        runtime = self.data.runtimes.get(self.station_id)
        return runtime.transactions.evse(self.evse_id) if runtime is not None else EvseSession(self.evse_id)

    @property
    def limits(self) -> EvseCharging:
        """The EVSE's charging limits (for EVSE 0: station-wide ones)."""
        return self.data.charging.evse(self.station_id, self.evse_id)


def connected(view: StationView) -> bool:
    """Available while the station is connected (the default)."""
    return view.connected


def essential(_detail: EntityDetail) -> bool:
    """Every station gets the entity, whatever the entity detail."""
    return True


def full_only(detail: EntityDetail) -> bool:
    """Only stations with the full entity detail get the entity (the default)."""
    return detail is EntityDetail.FULL


def always(_view: StationView) -> bool:
    """Always (available: Home Assistant's own settings, known while the station is away; supported: any station)."""
    return True


@dataclass(frozen=True, kw_only=True)
class OcppEntityDescription(EntityDescription):
    """What every entity of the integration's descriptions says besides Home Assistant's fields.

    `energy`: the entity shows the energy manager's settings or decision for its EVSE, and follows their signal.
    """

    available_fn: Callable[[StationView], bool] = connected
    has_fn: Callable[[EntityDetail], bool] = full_only
    supported_fn: Callable[[StationView], bool] = always
    energy: bool = False


class OcppEntity(Entity):
    """An entity of a station: updated by the signals of what it shows, never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: OcppEntityDescription

    def __init__(
        self, *, data: OcppCsmsRuntimeData, station_id: str, evse_id: int = 0, description: OcppEntityDescription
    ) -> None:
        """Attach the entity to the device of the station (EVSE 0 or below) or of the EVSE."""
        self.data = data
        self.view = StationView(data, station_id, evse_id)
        self.entity_description = description
        self._attr_unique_id = unique_id(station_id, evse_id, description.key)
        self._shown: object = None

    @property
    @override
    def device_info(self) -> DeviceInfo | ChildDeviceInfo:
        """The device of the station or of the EVSE (made when asked: Home Assistant asks when adding)."""
        if self._attr_device_info is not None:  # a variable entity's: its variable's EVSE
            return self._attr_device_info
        return DeviceInfo(identifiers={device_identifier(self.view.station_id, self.view.evse_id)})

    @property
    def station_id(self) -> str:
        """The station's id."""
        return self.view.station_id

    @property
    def evse_id(self) -> int:
        """The EVSE (0: the station; STATION_CAP: the station-wide cap)."""
        return self.view.evse_id

    @property
    @override
    def available(self) -> bool:
        """As the description says (by default: while the station is connected)."""
        return self.entity_description.available_fn(self.view)

    def update_signals(self) -> tuple[SignalType[()], ...]:
        """The signals of what the entity shows: its station's, and its EVSE's (station-wide limits: EVSE -1).

        An entity of the energy manager follows the manager's signal for its EVSE instead of the EVSE's.
        """
        entry_id = self.data.context.entry_id
        station = station_signal(entry_id, self.station_id)
        if self.entity_description.energy:
            return (station, energy_signal(entry_id, self.station_id, self.evse_id))
        return (station, evse_signal(entry_id, self.station_id, self.evse_id)) if self.evse_id else (station,)

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the signals of what the entity shows."""
        await super().async_added_to_hass()
        self._shown = self.shown()
        for signal in self.update_signals():
            self.data.entity_signals.follow(self.hass, signal, self)

    @override
    async def async_will_remove_from_hass(self) -> None:
        """Stop following the signals."""
        await super().async_will_remove_from_hass()
        for signal in self.update_signals():
            self.data.entity_signals.unfollow(signal, self)

    def shown(self) -> object:
        """What the entity shows; its state is written only when this changes."""
        return (self.available, self.state, self.extra_state_attributes)

    @callback
    def async_update_if_changed(self) -> None:
        """Write the state if what the entity shows changed: one meter value concerns few of an EVSE's entities."""
        shown = self.shown()
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()
