"""Sensors: each EVSE's charging session and meter, and the read-only variables of the device model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from . import OcppCsmsConfigEntry
from .const import DOMAIN
from .control_entity import OcppEvseControlEntity
from .csms.station import Station
from .entity import OcppStationEntity
from .hub import OcppCsmsHub, evse_identifier
from .platform import async_add_evse_entities, async_add_station_entities, async_add_variable_entities
from .protocol.v201.enums import ChargingRateUnit, ChargingState, ConnectorStatus, Phase
from .station.device_model import VariableKey
from .station.transactions import EvseSession
from .station.variable_kinds import EntityKind, EntitySpec
from .station_messages import evse_signal
from .variable_entity import OcppVariableEntity

PARALLEL_UPDATES = 0

CHARGING_STATES = [state.value.lower() for state in ChargingState]
CONNECTOR_STATUSES = [status.value.lower() for status in ConnectorStatus]


@dataclass(frozen=True, slots=True)
class EvseView:
    """What an EVSE sensor reads: the station (connector status) and the EVSE's session and meter."""

    station: Station
    evse_id: int
    session: EvseSession
    now: datetime


def _connector_status(view: EvseView) -> str | None:
    statuses = [status for (evse, _), status in sorted(view.station.connector_status.items()) if evse == view.evse_id]
    if not statuses:
        return None
    # With several connectors, the busiest one tells what the EVSE is doing.
    for status in (ConnectorStatus.OCCUPIED, ConnectorStatus.FAULTED, ConnectorStatus.RESERVED):
        if status in statuses:
            return status.value.lower()
    return statuses[0].value.lower()


def _charging_state(view: EvseView) -> str | None:
    session = view.session
    if not session.active:
        return ChargingState.IDLE.value.lower() if session.last_transaction_id or session.meter else None
    return session.charging_state.value.lower() if session.charging_state else None


def _phase(values: Callable[[EvseView], dict[Phase, float]], phase: Phase) -> Callable[[EvseView], StateType]:
    return lambda view: values(view).get(phase)


def _kwh(wh: float | None) -> float | None:
    return round(wh / 1000, 3) if wh is not None else None


def _duration(view: EvseView) -> float | None:
    duration = view.session.duration(view.now)
    return round(duration.total_seconds()) if duration is not None else None


@dataclass(frozen=True, kw_only=True)
class OcppEvseSensorEntityDescription(SensorEntityDescription):
    """How an EVSE sensor reads its state."""

    value_fn: Callable[[EvseView], StateType]


def _current(view: EvseView) -> dict[Phase, float]:
    return view.session.meter.current_a


def _voltage(view: EvseView) -> dict[Phase, float]:
    return view.session.meter.voltage_v


EVSE_SENSORS: tuple[OcppEvseSensorEntityDescription, ...] = (
    OcppEvseSensorEntityDescription(
        key="charging_state",
        translation_key="charging_state",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGING_STATES,
        value_fn=_charging_state,
    ),
    OcppEvseSensorEntityDescription(
        key="connector_status",
        translation_key="connector_status",
        device_class=SensorDeviceClass.ENUM,
        options=CONNECTOR_STATUSES,
        value_fn=_connector_status,
    ),
    OcppEvseSensorEntityDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda view: view.session.meter.active_power_w,
    ),
    *(
        OcppEvseSensorEntityDescription(
            key=f"current_{phase.value.lower()}",
            translation_key="current_phase",
            translation_placeholders={"phase": phase.value},
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=1,
            value_fn=_phase(_current, phase),
        )
        for phase in (Phase.L1, Phase.L2, Phase.L3)
    ),
    *(
        OcppEvseSensorEntityDescription(
            key=f"voltage_{phase.value.lower()}",
            translation_key="voltage_phase",
            translation_placeholders={"phase": phase.value},
            device_class=SensorDeviceClass.VOLTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricPotential.VOLT,
            suggested_display_precision=0,
            entity_registry_enabled_default=False,
            value_fn=_phase(_voltage, phase),
        )
        for phase in (Phase.L1, Phase.L2, Phase.L3)
    ),
    OcppEvseSensorEntityDescription(
        key="current_offered",
        translation_key="current_offered",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        value_fn=lambda view: view.session.meter.current_offered_a,
    ),
    OcppEvseSensorEntityDescription(
        key="power_offered",
        translation_key="power_offered",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.session.meter.power_offered_w,
    ),
    OcppEvseSensorEntityDescription(
        key="soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        value_fn=lambda view: view.session.meter.soc_percent,
    ),
    OcppEvseSensorEntityDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: _kwh(view.session.energy_wh),
    ),
    OcppEvseSensorEntityDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=_duration,
    ),
    OcppEvseSensorEntityDescription(
        key="transaction_id",
        translation_key="transaction_id",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.session.transaction_id,
    ),
    OcppEvseSensorEntityDescription(
        key="stopped_reason",
        translation_key="stopped_reason",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.session.stopped_reason.value if view.session.stopped_reason else None,
    ),
    OcppEvseSensorEntityDescription(
        key="id_token",
        translation_key="id_token",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.session.id_token.id_token if view.session.id_token else None,
    ),
)

LIFETIME_ENERGY = OcppEvseSensorEntityDescription(
    key="energy",
    translation_key="lifetime_energy",
    device_class=SensorDeviceClass.ENERGY,
    state_class=SensorStateClass.TOTAL_INCREASING,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
    value_fn=lambda view: _kwh(view.session.lifetime_energy_wh),
)

VARIABLE_SENSOR_KINDS = frozenset(
    {EntityKind.SENSOR_NUMERIC, EntityKind.SENSOR_ENUM, EntityKind.SENSOR_TEXT, EntityKind.SENSOR_TIMESTAMP}
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the EVSE sensors of every EVSE and a sensor per read-only variable."""
    async_add_evse_entities(
        entry,
        async_add_entities,
        lambda hub, station_id, evse_id: [
            *(OcppEvseSensor(hub, station_id, evse_id, description) for description in EVSE_SENSORS),
            OcppEvseSensor(hub, station_id, evse_id, LIFETIME_ENERGY),
        ],
    )
    async_add_evse_entities(
        entry,
        async_add_entities,
        lambda hub, station_id, evse_id: [
            OcppLimitSensor(hub, station_id, evse_id, COMPOSITE_SCHEDULE),
            OcppLimitSensor(hub, station_id, evse_id, EXTERNAL_LIMIT),
        ],
    )
    async_add_station_entities(
        entry, async_add_entities, lambda hub, station_id: [OcppLimitSensor(hub, station_id, 0, EXTERNAL_LIMIT)]
    )
    async_add_variable_entities(entry, async_add_entities, VARIABLE_SENSOR_KINDS, OcppVariableSensor)


COMPOSITE_SCHEDULE = SensorEntityDescription(
    key="composite_schedule",
    translation_key="composite_schedule",
    device_class=SensorDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    suggested_display_precision=1,
)
EXTERNAL_LIMIT = SensorEntityDescription(
    key="external_charging_limit",
    translation_key="external_charging_limit",
    entity_category=EntityCategory.DIAGNOSTIC,
)


class OcppLimitSensor(OcppEvseControlEntity, SensorEntity):
    """The composite schedule in force, or an external limit set at the station.

    The composite: the current limit now as state, the periods as attributes. The external limit (set by a local
    energy manager, NotifyChargingLimit, K12): its source as state, its schedules as attributes.
    """

    @property
    def native_value(self) -> StateType:
        """The limit now (A), or the source of the external limit (None when there is none)."""
        state = self.hub.charging.evse(self.station_id, self.evse_id)
        if self.entity_description.key == EXTERNAL_LIMIT.key:
            return state.external.charging_limit_source.value if state.external else None
        return (
            self.hub.charging.in_force(self.station_id, self.evse_id, ChargingRateUnit.A) if state.composite else None
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The composite's periods; for an external limit, whether it is grid critical and its schedules."""
        state = self.hub.charging.evse(self.station_id, self.evse_id)
        if self.entity_description.key == EXTERNAL_LIMIT.key:
            if state.external is None:
                return None
            return {
                "grid_critical": bool(state.external.is_grid_critical),
                "schedules": [schedule.to_payload() for schedule in state.external_schedule or ()],
            }
        return state.composite.attributes() if state.composite else None


class OcppEvseSensor(OcppStationEntity, RestoreSensor):
    """A sensor of an EVSE; its last value survives restarts until the station reports a new one."""

    entity_description: OcppEvseSensorEntityDescription

    def __init__(
        self, hub: OcppCsmsHub, station_id: str, evse_id: int, description: OcppEvseSensorEntityDescription
    ) -> None:
        """Attach to the EVSE's device."""
        super().__init__(hub, station_id, description)
        self.evse_id = evse_id
        self._attr_unique_id = f"{station_id}_evse_{evse_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, evse_identifier(station_id, evse_id))})
        self._restored: StateType = None
        self._last: StateType = None

    def _view(self) -> EvseView:
        runtime = self.hub.runtimes.get(self.station_id)
        session = runtime.transactions.evse(self.evse_id) if runtime else EvseSession(self.evse_id)
        return EvseView(self.station, self.evse_id, session, datetime.now(UTC))

    @property
    def native_value(self) -> StateType:
        """The value now, or the one restored from before the restart while there is none."""
        value = self.entity_description.value_fn(self._view())
        return self._restored if value is None else value

    async def async_added_to_hass(self) -> None:
        """Restore the last value, then follow the EVSE."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None and not isinstance(
            last.native_value, datetime
        ):
            self._restored = last.native_value  # type: ignore[assignment]
        self._last = self.native_value
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                evse_signal(self.hub.entry.entry_id, self.station_id, self.evse_id),
                self._handle_evse_update,
            )
        )

    @callback
    def _handle_evse_update(self) -> None:
        """Write the state only when the value changed: one meter value touches few sensors."""
        value = self.native_value
        if value != self._last:
            self._last = value
            self.async_write_ha_state()

    @callback
    def _handle_station_update(self) -> None:
        """Connection changes alter availability (and the connector status)."""
        self._last = self.native_value
        self.async_write_ha_state()


class OcppVariableSensor(OcppVariableEntity, SensorEntity):
    """A read-only variable: numeric with unit and device class, enum for option lists, text otherwise."""

    def __init__(self, hub: OcppCsmsHub, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """Unit, device class and options from the spec."""
        super().__init__(hub, station_id, key, spec)
        if spec.kind is EntityKind.SENSOR_ENUM:
            self._attr_device_class = SensorDeviceClass.ENUM
            self._attr_options = list(spec.options)
        elif spec.device_class is not None:
            self._attr_device_class = SensorDeviceClass(spec.device_class)
        if spec.kind is EntityKind.SENSOR_NUMERIC:
            self._attr_native_unit_of_measurement = spec.unit
            if spec.unit is not None:
                self._attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> Any:
        """The variable's value; an option outside the list is shown as unknown."""
        value = self.variable_value
        if self.spec.kind is EntityKind.SENSOR_ENUM and value not in self.spec.options:
            return None
        if isinstance(value, tuple):
            return ",".join(value)
        return value
