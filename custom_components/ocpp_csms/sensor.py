"""Sensors: each EVSE's charging session, meter and limits, the station's external limit, and read-only variables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, override

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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .charging.profiles import ManagedLayout
from .energy.model import ChargingMode, EvseState
from .entity import OcppEntity, OcppEntityDescription, StationView, always, essential
from .iso15118 import EvNeeds
from .platform import async_add_evse_entities, async_add_station_entities, async_add_variable_entities
from .protocol.v201.enums import ChargingRateUnit, ChargingState, ConnectorStatus, FirmwareStatus, Phase
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.meter_values import MeterSnapshot
from .station.transactions import EvseSession
from .station.variable_kinds import EntityKind, EntitySpec
from .value_names import enum_states, readable_list, state_key
from .variable_entity import OcppVariableEntity, variable_description

PARALLEL_UPDATES = 0

CHARGING_STATES = [state.value.lower() for state in ChargingState]
CONNECTOR_STATUSES = [status.value.lower() for status in ConnectorStatus]


@dataclass(frozen=True, kw_only=True)
class OcppSensorEntityDescription(SensorEntityDescription, OcppEntityDescription):
    """How a sensor reads its state (and attributes); `restore`: its last value survives restarts until a new one."""

    value_fn: Callable[[StationView], StateType | datetime]
    attributes_fn: Callable[[StationView], dict[str, Any] | None] = lambda _view: None
    restore: bool = True


def _busiest(statuses: list[ConnectorStatus]) -> str | None:
    """With several connectors, the busiest one tells what the EVSE (or station) is doing."""
    if not statuses:
        return None
    for status in (ConnectorStatus.OCCUPIED, ConnectorStatus.FAULTED, ConnectorStatus.RESERVED):
        if status in statuses:
            return status.value.lower()
    return statuses[0].value.lower()


def _connector_status(view: StationView) -> str | None:
    station = view.station
    return _busiest([status for (evse, _), status in sorted(station.connector_status.items()) if evse == view.evse_id])


def _station_status(view: StationView) -> str | None:
    """The station's own status (evseId 0, which some stations report on every boot), else its busiest connector."""
    statuses = sorted(view.station.connector_status.items())
    own = [status for (evse, _), status in statuses if evse == 0]
    return _busiest(own or [status for _, status in statuses])


def _charging_state(view: StationView) -> str | None:
    session = view.session
    if not session.active:
        return ChargingState.IDLE.value.lower()
    return session.charging_state.value.lower() if session.charging_state else None


def _flowing(read: Callable[[MeterSnapshot], float | None]) -> Callable[[StationView], StateType]:
    """A quantity that flows only while charging: 0 on an idle EVSE, unless the station measured it since.

    During a transaction: the latest reading. Without one: a reading taken after the last session ended (meter
    values outside transactions, J01), else 0 (a finished session's last power is not what flows now).
    """

    def value(view: StationView) -> StateType:
        session = view.session
        reading = read(session.meter)
        if session.active:
            return reading
        taken = session.meter.timestamp
        if reading is not None and taken is not None and (session.ended_at is None or taken > session.ended_at):
            return reading
        return 0.0

    return value


def _kwh(wh: float | None) -> float | None:
    return round(wh / 1000, 3) if wh is not None else None


def _confirmed_kwh(wh: Callable[[EvseSession], float | None]) -> Callable[[StationView], float | None]:
    """An energy total in kWh, unknown while it may lag what was shown before a restart (no dip in statistics)."""
    return lambda view: _kwh(wh(view.session)) if view.session.energy_confirmed else None


def _duration(view: StationView) -> float | None:
    duration = view.session.duration(datetime.now(UTC))
    return round(duration.total_seconds()) if duration is not None else None


def _current(phase: Phase) -> Callable[[StationView], StateType]:
    return _flowing(lambda meter: meter.current_a.get(phase))


def _voltage(phase: Phase) -> Callable[[StationView], StateType]:
    return lambda view: view.session.meter.voltage_v.get(phase)


def _limit_in_force(view: StationView) -> StateType:
    if view.limits.composite is None:
        return None
    return view.data.charging.in_force(view.station_id, view.evse_id, ChargingRateUnit.A)


def _limit_attributes(view: StationView) -> dict[str, Any] | None:
    """The composite schedule's periods, how the limit in force compares with the one asked for, the EV's schedule."""
    composite = view.limits.composite
    chosen = view.data.iso15118.schedules.get((view.station_id, view.evse_id))  # K15: the EV's own schedule
    if composite is None:
        return {"ev_schedule": chosen.attributes()} if chosen is not None else None
    attributes = composite.attributes()
    if chosen is not None:
        attributes["ev_schedule"] = chosen.attributes()
    if (check := view.data.charging.readback(view.station_id, view.evse_id)) is not None:
        attributes |= {
            "requested_limit": check.requested,
            "requested_unit": check.unit.value,
            "limit_status": check.status.value,
        }
    return attributes


def _external_source(view: StationView) -> StateType:
    external = view.limits.external
    return external.charging_limit_source.value if external else None


def _external_attributes(view: StationView) -> dict[str, Any] | None:
    limits = view.limits
    if limits.external is None:
        return None
    return {
        "grid_critical": bool(limits.external.is_grid_critical),
        "schedules": [schedule.to_payload() for schedule in limits.external_schedule or ()],
    }


EVSE_SENSORS: tuple[OcppSensorEntityDescription, ...] = (
    OcppSensorEntityDescription(
        key="charging_state",
        translation_key="charging_state",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGING_STATES,
        value_fn=_charging_state,
        has_fn=essential,
    ),
    OcppSensorEntityDescription(
        key="connector_status",
        translation_key="connector_status",
        device_class=SensorDeviceClass.ENUM,
        options=CONNECTOR_STATUSES,
        value_fn=_connector_status,
        has_fn=essential,
    ),
    OcppSensorEntityDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=_flowing(lambda meter: meter.active_power_w),
        has_fn=essential,
    ),
    *(
        OcppSensorEntityDescription(
            key=f"current_{phase.value.lower()}",
            translation_key="current_phase",
            translation_placeholders={"phase": phase.value},
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=1,
            value_fn=_current(phase),
        )
        for phase in (Phase.L1, Phase.L2, Phase.L3)
    ),
    *(
        OcppSensorEntityDescription(
            key=f"voltage_{phase.value.lower()}",
            translation_key="voltage_phase",
            translation_placeholders={"phase": phase.value},
            device_class=SensorDeviceClass.VOLTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricPotential.VOLT,
            suggested_display_precision=0,
            entity_registry_enabled_default=False,
            value_fn=_voltage(phase),
        )
        for phase in (Phase.L1, Phase.L2, Phase.L3)
    ),
    OcppSensorEntityDescription(
        key="current_offered",
        translation_key="current_offered",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        value_fn=_flowing(lambda meter: meter.current_offered_a),
    ),
    OcppSensorEntityDescription(
        key="power_offered",
        translation_key="power_offered",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=_flowing(lambda meter: meter.power_offered_w),
    ),
    OcppSensorEntityDescription(
        key="soc",
        translation_key="soc",  # no battery device class: a car's SoC is no low battery of the house
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        value_fn=lambda view: view.session.meter.soc_percent,
    ),
    OcppSensorEntityDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_confirmed_kwh(lambda session: session.energy_wh),
        has_fn=essential,
        restore=False,  # the stored session is the truth; a restored state may be older still
    ),
    OcppSensorEntityDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=_duration,
    ),
    OcppSensorEntityDescription(
        key="transaction_id",
        translation_key="transaction_id",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.session.transaction_id,
    ),
    OcppSensorEntityDescription(
        key="stopped_reason",
        translation_key="stopped_reason",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.session.stopped_reason.value if view.session.stopped_reason else None,
    ),
    OcppSensorEntityDescription(
        key="id_token",
        translation_key="id_token",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.session.id_token.id_token if view.session.id_token else None,
    ),
    OcppSensorEntityDescription(
        key="energy",
        translation_key="lifetime_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_confirmed_kwh(lambda session: session.lifetime_energy_wh),
        has_fn=essential,
        restore=False,  # the stored lifetime is the truth; a restored state may be older still
    ),
    OcppSensorEntityDescription(
        key="composite_schedule",
        translation_key="composite_schedule",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        value_fn=_limit_in_force,
        attributes_fn=_limit_attributes,
        restore=False,
    ),
)


def _local_list_version(view: StationView) -> StateType:
    state = view.data.local_lists.state(view.station_id)
    return state.version if state is not None else None


def _local_list_attributes(view: StationView) -> dict[str, Any] | None:
    """How the list stands, when it was last brought in step, and how many tokens it holds."""
    state = view.data.local_lists.state(view.station_id)
    if state is None:
        return None
    return {
        "status": state.status.value,
        "last_sync": state.synced_at.isoformat() if state.synced_at else None,
        "entries": len(state.entries),
    }


def _reservation(view: StationView) -> StateType:
    return "reserved" if view.data.reservations.at(view.station_id, view.evse_id) else "none"


def _reservation_attributes(view: StationView) -> dict[str, Any] | None:
    reservation = view.data.reservations.at(view.station_id, view.evse_id)
    return reservation.attributes() if reservation is not None else None


#: The station's local authorization list (D01): its version, with its status and last sync as attributes.
LOCAL_AUTH_LIST = OcppSensorEntityDescription(
    key="local_auth_list",
    translation_key="local_auth_list",
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=_local_list_version,
    attributes_fn=_local_list_attributes,
    restore=False,
)
#: A reservation (H01) of the EVSE, or of no particular EVSE of the station: who for, until when.
RESERVATION = OcppSensorEntityDescription(
    key="reservation",
    translation_key="reservation",
    device_class=SensorDeviceClass.ENUM,
    options=["none", "reserved"],
    value_fn=_reservation,
    attributes_fn=_reservation_attributes,
    available_fn=lambda _view: True,  # Home Assistant's own book: known while the station is away
    restore=False,
)
#: The station's own status: never an EVSE of its own (a StatusNotification for evseId 0 is the station's).
STATION_STATUS = OcppSensorEntityDescription(
    key="station_status",
    translation_key="station_status",
    device_class=SensorDeviceClass.ENUM,
    options=CONNECTOR_STATUSES,
    value_fn=_station_status,
    restore=False,
)
EXTERNAL_LIMIT = OcppSensorEntityDescription(
    key="external_charging_limit",
    translation_key="external_charging_limit",
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,  # the station's External charging limit event says it first
    value_fn=_external_source,
    attributes_fn=_external_attributes,
    restore=False,
)

# ---- station management (L: firmware) ----------------------------------------------------------------------

FIRMWARE_STATUSES = [
    "idle",
    *(state_key(status.value) for status in FirmwareStatus if status is not FirmwareStatus.IDLE),
]


def _firmware_status(view: StationView) -> StateType:
    """The last status the station reported of its firmware update (Idle: none in this run)."""
    status = view.data.firmware.status(view.station_id)
    return state_key(status.value) if status is not None else "idle"


FIRMWARE_STATUS = OcppSensorEntityDescription(
    key="firmware_status",
    translation_key="firmware_status",
    device_class=SensorDeviceClass.ENUM,
    options=FIRMWARE_STATUSES,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=_firmware_status,
    restore=False,
)

# ---- certificates (A02-A03, M03) ----------------------------------------------------------------------------


def _certificate_expiry(view: StationView) -> datetime | None:
    nearest = view.data.certificates.nearest_expiry(view.station_id)
    return nearest[0] if nearest else None


def _certificate_attributes(view: StationView) -> dict[str, Any] | None:
    nearest = view.data.certificates.nearest_expiry(view.station_id)
    return {"certificate_type": nearest[1]} if nearest else None


CERTIFICATE_EXPIRY = OcppSensorEntityDescription(
    key="certificate_expiry",
    translation_key="certificate_expiry",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=_certificate_expiry,
    attributes_fn=_certificate_attributes,
    available_fn=lambda _view: True,  # known from what the integration issued, installed or was shown
    restore=False,
)

# ---- ISO 15118 charging needs (K15-K17) ------------------------------------------------------------------------


def _ev_need(read: Callable[[EvNeeds], float | datetime | None]) -> Callable[[StationView], StateType | datetime]:
    """What the EV on the EVSE said it needs, while its session runs."""

    def value(view: StationView) -> StateType | datetime:
        needs = view.data.iso15118.needs.get((view.station_id, view.evse_id))
        if needs is None or not view.session.active:
            return None
        return read(needs)

    return value


EV_NEEDS_SENSORS: tuple[OcppSensorEntityDescription, ...] = (
    OcppSensorEntityDescription(
        key="ev_requested_energy",
        translation_key="ev_requested_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=_ev_need(lambda needs: _kwh(needs.requested_energy_wh)),
        restore=False,
    ),
    OcppSensorEntityDescription(
        key="ev_departure_time",
        translation_key="ev_departure_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_ev_need(lambda needs: needs.departure_time),
        restore=False,
    ),
    OcppSensorEntityDescription(
        key="ev_max_current",
        translation_key="ev_max_current",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_registry_enabled_default=False,
        value_fn=_ev_need(lambda needs: needs.max_current_a),
        restore=False,
    ),
    OcppSensorEntityDescription(
        key="ev_max_power",
        translation_key="ev_max_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=_ev_need(lambda needs: needs.max_power_w),
        restore=False,
    ),
    OcppSensorEntityDescription(
        key="ev_state_of_charge",
        translation_key="ev_state_of_charge",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        entity_registry_enabled_default=False,  # DC only; the meter values' State of charge says it already
        value_fn=_ev_need(lambda needs: needs.state_of_charge),
        restore=False,
    ),
)

# ---- the energy manager ---------------------------------------------------------------------------------------


def _smart(view: StationView) -> bool:
    return view.data.energy.mode(view.station_id, view.evse_id) is ChargingMode.SMART


def _energy_state(view: StationView) -> StateType:
    if _smart(view):  # the departure planner's: the plan on the station, or its limits sent live
        return view.data.planner.state(view.station_id, view.evse_id).value
    return view.data.energy.state(view.station_id, view.evse_id).value


def _energy_attributes(view: StationView) -> dict[str, Any] | None:
    """The numbers behind the decision, and whether the station falls back to the safe limit by itself."""
    if _smart(view):
        return None
    decision = view.data.energy.decision(view.station_id, view.evse_id)
    if decision is None:
        return None
    layout = view.data.charging.managed_layout(view.station_id, view.evse_id)
    return {**decision.attributes, "fallback_on_station": layout is not ManagedLayout.UNGUARDED}


#: What the energy manager does with the EVSE and why (attributes: surplus, target, phases, fuse headroom...).
ENERGY_MANAGER = OcppSensorEntityDescription(
    key="energy_manager",
    translation_key="energy_manager",
    device_class=SensorDeviceClass.ENUM,
    options=[state.value for state in EvseState],
    value_fn=_energy_state,
    attributes_fn=_energy_attributes,
    available_fn=always,
    restore=False,
    energy=True,
)

# ---- departure planning and session cost --------------------------------------------------------------------------


def _plan_start(view: StationView) -> datetime | None:
    plan = view.data.planner.plan(view.station_id, view.evse_id)
    return None if plan is None else plan.next_start(datetime.now(UTC))


#: The smart mode's plan: state the next start of charging; attributes the slots with power and price, the expected
#: energy, cost and finish, whether the target is met, whether the station holds the plan.
PLAN = OcppSensorEntityDescription(
    key="charging_plan",
    translation_key="charging_plan",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=lambda _view: None,  # OcppPlanSensor reads the plan itself (a timestamp)
    attributes_fn=lambda view: view.data.planner.plan_attributes(view.station_id, view.evse_id),
    available_fn=always,
    restore=False,
    energy=True,
)

#: The cost of the current (or last) session, from the price per slot and the energy metered in it.
SESSION_COST = OcppSensorEntityDescription(
    key="session_cost",
    translation_key="session_cost",
    device_class=SensorDeviceClass.MONETARY,
    state_class=SensorStateClass.TOTAL,
    suggested_display_precision=2,
    value_fn=lambda view: view.data.planner.session_cost(view.station_id, view.evse_id),
    attributes_fn=lambda view: view.data.planner.cost_attributes(view.station_id, view.evse_id),
    available_fn=always,
    energy=True,
)

VARIABLE_SENSOR_KINDS = frozenset(
    {EntityKind.SENSOR_NUMERIC, EntityKind.SENSOR_ENUM, EntityKind.SENSOR_TEXT, EntityKind.SENSOR_TIMESTAMP}
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every EVSE (with the EV's needs and the energy manager's), the station's own, variables."""
    async_add_evse_entities(
        entry,
        async_add_entities,
        OcppSensor,
        (*EVSE_SENSORS, EXTERNAL_LIMIT, RESERVATION, *EV_NEEDS_SENSORS, ENERGY_MANAGER),
    )
    async_add_evse_entities(entry, async_add_entities, OcppPlanSensor, (PLAN,))
    async_add_evse_entities(entry, async_add_entities, OcppCostSensor, (SESSION_COST,))
    async_add_station_entities(
        entry,
        async_add_entities,
        OcppSensor,
        (STATION_STATUS, EXTERNAL_LIMIT, FIRMWARE_STATUS, LOCAL_AUTH_LIST, RESERVATION, CERTIFICATE_EXPIRY),
    )
    async_add_variable_entities(entry, async_add_entities, VARIABLE_SENSOR_KINDS, OcppVariableSensor)


class OcppSensor(OcppEntity, RestoreSensor):
    """A sensor of a station or an EVSE, read by its description's functions."""

    entity_description: OcppSensorEntityDescription
    _restored: StateType = None

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """The value now, or (where the description says) the one restored from before the restart."""
        value = self.entity_description.value_fn(self.view)
        return self._restored if value is None else value

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """What the description's attributes function says."""
        return self.entity_description.attributes_fn(self.view)

    @override
    async def async_added_to_hass(self) -> None:
        """Restore the last value, then follow what the sensor shows."""
        last = await self.async_get_last_sensor_data() if self.entity_description.restore else None
        if last is not None and not isinstance(last.native_value, datetime):
            self._restored = last.native_value  # type: ignore[assignment]
        await super().async_added_to_hass()

    @override
    def shown(self) -> object:
        """Availability, value and attributes (cheaper than the formatted state)."""
        return (self.available, self.native_value, self.extra_state_attributes)


class OcppPlanSensor(OcppEntity, SensorEntity):
    """The smart mode's plan: when charging starts next."""

    entity_description: OcppSensorEntityDescription

    @property
    @override
    def native_value(self) -> datetime | None:
        """The next start of charging (None: no plan, or it charges no more)."""
        return _plan_start(self.view)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The plan."""
        return self.entity_description.attributes_fn(self.view)


class OcppCostSensor(OcppSensor):
    """A session's cost in the site's currency."""

    @property
    @override
    def native_unit_of_measurement(self) -> str:
        """The site's currency (Home Assistant's)."""
        return self.hass.config.currency


@dataclass(frozen=True, kw_only=True)
class OcppVariableSensorEntityDescription(SensorEntityDescription, OcppEntityDescription):
    """A read-only variable's sensor."""


class OcppVariableSensor(OcppVariableEntity, SensorEntity):
    """A read-only variable: numeric with unit and device class, enum for option lists, text otherwise."""

    entity_description: OcppVariableSensorEntityDescription

    def __init__(self, data: OcppCsmsRuntimeData, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """Unit, device class and options from the spec."""
        fields: dict[str, Any] = {}
        if (states := enum_states(spec.translation_key)) is not None:  # a curated one: translated states
            fields |= {"device_class": SensorDeviceClass.ENUM, "options": states}
        elif spec.kind is EntityKind.SENSOR_ENUM:
            fields |= {"device_class": SensorDeviceClass.ENUM, "options": list(spec.options)}
        elif spec.device_class is not None:
            fields["device_class"] = SensorDeviceClass(spec.device_class)
        if spec.kind is EntityKind.SENSOR_NUMERIC:
            fields["native_unit_of_measurement"] = spec.unit
            if spec.unit is not None:
                fields["state_class"] = SensorStateClass.MEASUREMENT
        description = variable_description(OcppVariableSensorEntityDescription, key, spec, **fields)
        super().__init__(data, station_id, key, spec, description)

    @property
    @override
    def native_value(self) -> Any:
        """The variable's value (a list by its members' names); an option outside the list is shown as unknown."""
        value = self.variable_value
        options = self.entity_description.options
        if self.entity_description.device_class is SensorDeviceClass.ENUM and options is not None:
            if isinstance(value, str) and value not in options and state_key(value) in options:
                return state_key(value)  # a curated variable's translated state
            return value if value in options else None
        if isinstance(value, tuple):
            return readable_list(value)
        return value
