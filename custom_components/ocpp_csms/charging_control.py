"""Charging limits and schedules of the control surface, on top of the HA-free `charging/` logic.

Every limit goes through the EVSE's flash-protection filter (dead band, increase interval, 6 A floor), becomes
charging profiles with our own ids and stack levels (TxDefaultProfile, plus TxProfile for a running transaction),
and is read back with GetCompositeSchedule: entities show the limit in force, not merely the last one asked for,
and how it compares with the one asked for (`charging/readback.py`). External limits set at the station (K11-K13)
are shown and fired as events. The energy manager's limits (`fallback` given) are valid for a while over a safe
limit without end (`charging.profiles.managed_requests`), so that the station falls back by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
import logging
from typing import Any

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_point_in_utc_time

from .charging.capabilities import ComponentRef, SmartChargingCapabilities, VariableRef
from .charging.composite import CompositeLimit, parse_composite
from .charging.habits import ChargingHabits
from .charging.limiter import LimitRequestFilter
from .charging.profiles import (
    ManagedLayout,
    ProfileAllocator,
    ProfileRole,
    SchedulePeriod,
    clear_limit_requests,
    clear_requests,
    limit_profile,
    limit_requests,
    managed_layout,
    managed_requests,
    schedule_requests,
    start_profile,
)
from .charging.readback import Readback, readback
from .charging.units import convert
from .const import DOMAIN
from .context import StationContext
from .csms.station import Station
from .helpers import call_failed, station_error, translated_errors
from .protocol.session import CallErrorResponse, InvalidResponse
from .protocol.v201.datatypes import (
    ChargingLimit,
    ChargingProfile,
    ChargingProfileCriterion,
    ChargingSchedule,
    ClearChargingProfile,
    Component,
    GetVariableData,
    Variable,
)
from .protocol.v201.enums import (
    ChargingProfilePurpose,
    ChargingProfileStatus,
    ChargingRateUnit,
    ChargingState,
    ClearChargingProfileStatus,
    GetChargingProfileStatus,
    GetVariableStatus,
    RecurrencyKind,
)
from .protocol.v201.messages import (
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    ClearedChargingLimitRequest,
    ClearedChargingLimitResponse,
    GetChargingProfilesRequest,
    GetChargingProfilesResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    GetVariablesRequest,
    GetVariablesResponse,
    NotifyChargingLimitRequest,
    NotifyChargingLimitResponse,
    ReportChargingProfilesRequest,
    ReportChargingProfilesResponse,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
)
from .signals import ExternalLimitChange, evse_signal, external_limit_signal, station_signal
from .station.device_model import DeviceModel

_LOGGER = logging.getLogger(__name__)

#: How long the parts of a GetChargingProfiles report may take.
REPORT_TIMEOUT = 30.0
#: Where a station says how many stack levels its profiles may use.
PROFILE_STACK_LEVEL = ("SmartChargingCtrlr", "ProfileStackLevel")

DEFAULT_VOLTAGE = 230.0
#: The key of the station-wide cap (ChargingStationMaxProfile) among the EVSE keys: EVSE 0 is the station-wide
#: TxDefaultProfile, a default for every EVSE; the cap bounds the whole station whatever the other profiles say.
STATION_CAP = -1
#: How far ahead the composite schedule is read back (K08).
READBACK_SECONDS = 3600
#: When the station reports no maximum, the number entities offer up to this (a 32 A three-phase EVSE).
DEFAULT_MAX_CURRENT = 32.0


@dataclass
class _ProfilesReport:
    """The parts of one GetChargingProfiles report as they arrive."""

    profiles: list[dict[str, Any]] = field(default_factory=list)
    complete: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class EvseCharging:
    """What the control surface knows of one EVSE's limits (EVSE 0: station-wide)."""

    filter: LimitRequestFilter = field(default_factory=LimitRequestFilter)
    requested: tuple[float, ChargingRateUnit] | None = None
    composite: CompositeLimit | None = None
    external: ChargingLimit | None = None
    external_schedule: list[ChargingSchedule] | None = None
    deferred: CALLBACK_TYPE | None = None
    #: Paused by the charging switch: how (a 0 A TxProfile, or a TxDefaultProfile where none is taken), else None.
    paused: ChargingProfilePurpose | None = None
    #: The energy manager's safe limit installed below its live one (A), and how they stand (None: none known).
    fallback: tuple[float, ManagedLayout] | None = None


@dataclass(frozen=True, slots=True)
class _Managed:
    """What an energy manager's limit carries besides the limit: the safe limit below it, the phase to use."""

    fallback: float
    phase_to_use: int | None


def _getter(model: DeviceModel) -> Callable[[ComponentRef, VariableRef], str | None]:
    def get(component: ComponentRef, variable: VariableRef) -> str | None:
        found = model.find(
            component.name,
            variable.name,
            evse_id=component.evse_id,
            component_instance=component.instance,
            variable_instance=variable.instance,
        )
        if found is None:
            return None
        if variable.characteristic is None:
            return found.value
        characteristics = found.characteristics
        if characteristics is None:
            return None
        value = {"maxLimit": characteristics.max_limit, "minLimit": characteristics.min_limit}.get(
            variable.characteristic
        )
        return None if value is None else str(value)

    return get


class ChargingControl:
    """The charging limits of every station of one config entry."""

    def __init__(self, context: StationContext) -> None:
        """Register the external-limit handlers."""
        self.context = context
        self._evses: dict[tuple[str, int], EvseCharging] = {}
        self._allocators: dict[str, ProfileAllocator] = {}
        #: Per station: the capabilities parsed from its device model (and its habits), and what they came from.
        self._capabilities: dict[str, tuple[tuple[int, int, int, int | None, int], SmartChargingCapabilities]] = {}
        #: ProfileStackLevel read with GetVariables where the inventory lacks it (None: the station does not say).
        self._probed_stack_levels: dict[str, int | None] = {}
        context.central.handle(NotifyChargingLimitRequest, self._notify_charging_limit)
        context.central.handle(ReportChargingProfilesRequest, self._report_charging_profiles)
        self._reports: dict[tuple[str, int], _ProfilesReport] = {}
        self._next_report_id = 0
        context.central.handle(ClearedChargingLimitRequest, self._cleared_charging_limit)

    # ---- state -------------------------------------------------------------------------------------------

    def evse(self, station_id: str, evse_id: int) -> EvseCharging:
        """The charging state of an EVSE (created empty)."""
        key = (station_id, evse_id)
        if (state := self._evses.get(key)) is None:
            state = self._evses[key] = EvseCharging()
        return state

    def capabilities(self, station_id: str) -> SmartChargingCapabilities:
        """The station's smart charging capabilities, from its inventory (safe defaults without one)."""
        runtime = self.context.runtimes.get(station_id)
        if runtime is None:
            return SmartChargingCapabilities()
        model = runtime.device_model
        probed = self._probed_stack_levels.get(station_id)
        habits = runtime.charging_habits
        source = (id(model), model.revision, len(runtime.known_evses), probed, len(habits.learnt))
        cached = self._capabilities.get(station_id)
        if cached is None or cached[0] != source:
            parsed = SmartChargingCapabilities.from_variables(_getter(model), evse_ids=sorted(runtime.known_evses))
            if probed is not None and model.find(*PROFILE_STACK_LEVEL) is None:
                parsed = replace(parsed, max_stack_level=probed)
            cached = self._capabilities[station_id] = (source, habits.adapt(parsed))
        return cached[1]

    async def _async_probe(self, station_id: str) -> None:
        """Read ProfileStackLevel once when the inventory lacks it (an unknown maximum is not 0)."""
        runtime = self.context.runtimes.get(station_id)
        if runtime is None or station_id in self._probed_stack_levels:
            return
        if runtime.device_model.find(*PROFILE_STACK_LEVEL) is not None:
            return
        component, variable = PROFILE_STACK_LEVEL
        outcome = await self.context.connected(station_id).session.call_outcome(
            GetVariablesRequest(
                get_variable_data=[
                    GetVariableData(component=Component(name=component), variable=Variable(name=variable))
                ]
            ),
            GetVariablesResponse,
        )
        level = None
        if isinstance(outcome, GetVariablesResponse):
            (result,) = outcome.get_variable_result or (None,)
            if result is not None and result.attribute_status is GetVariableStatus.ACCEPTED and result.attribute_value:
                with contextlib.suppress(ValueError):
                    level = max(int(result.attribute_value), 0)
        _LOGGER.debug("%s: ProfileStackLevel read: %s", station_id, level)
        self._probed_stack_levels[station_id] = level

    def allocator(self, station_id: str) -> ProfileAllocator:
        """Our profile ids and stack levels at the station (persisted with its sessions).

        When the station's inventory reports other stack levels than the allocator uses (it arrived after the
        first limit, or a firmware update changed them), the allocator adopts them; our profiles that land on
        another level are cleared at the station.
        """
        capabilities = self.capabilities(station_id)
        if (allocator := self._allocators.get(station_id)) is None:
            runtime = self.context.runtimes.get(station_id)
            saved = runtime.charging_profiles if runtime else None
            allocator = ProfileAllocator.from_dict(saved) if saved else ProfileAllocator.for_station(capabilities)
            self._allocators[station_id] = allocator
        if allocator.max_stack_level != capabilities.max_stack_level:
            if orphans := allocator.reconfigure(max_stack_level=capabilities.max_stack_level):
                self.context.background(self._clear_orphans(station_id, orphans), f"{DOMAIN} clear profiles")
            allocator.max_profiles = capabilities.max_profiles
            self._save_allocator(station_id, allocator)
        return allocator

    async def _clear_orphans(self, station_id: str, profile_ids: list[int]) -> None:
        """Clear our profiles whose stack level changed (K10); they are re-sent with the next limit."""
        station = self.context.central.stations.get(station_id)
        if station is None or not station.connected:
            return
        for profile_id in profile_ids:
            outcome = await station.session.call_outcome(
                ClearChargingProfileRequest(charging_profile_id=profile_id), ClearChargingProfileResponse
            )
            _LOGGER.debug("%s: profile %d on an old stack level cleared: %s", station_id, profile_id, outcome)

    def _save_allocator(self, station_id: str, allocator: ProfileAllocator) -> None:
        runtime = self.context.runtimes.get(station_id)
        if runtime is not None:
            runtime.charging_profiles = allocator.to_dict()
            runtime.schedule_save_sessions()

    @callback
    def transaction_started(self, station_id: str, evse_id: int) -> None:
        """A transaction runs on the EVSE: show the limit in force for it (K08)."""
        self.context.background(self.async_read_back(station_id, evse_id), f"{DOMAIN} read back")

    @callback
    def transaction_ended(self, station_id: str, evse_id: int) -> None:
        """The station deletes a transaction's TxProfile when it stops (K02.FR.05): its slot is free again.

        A pause made with the TxDefaultProfile (a station that takes no TxProfile) is lifted: the next session
        must not start paused.
        """
        allocator = self.allocator(station_id)
        if allocator.release(ChargingProfilePurpose.TX_PROFILE, evse_id, None):
            self._save_allocator(station_id, allocator)
        state = self._evses.get((station_id, evse_id))
        if state is not None and state.paused is not None:
            by_default = state.paused is ChargingProfilePurpose.TX_DEFAULT_PROFILE
            state.paused = None
            if by_default and self.context.is_connected(station_id):
                self.context.background(self._async_lift_pause(station_id, evse_id), f"{DOMAIN} lift pause")

    # ---- pausing (the charging switch) -------------------------------------------------------------------

    def paused(self, station_id: str, evse_id: int) -> bool:
        """Whether the EVSE's running transaction is paused: by the switch, or with a limit of 0 in force."""
        state = self._evses.get((station_id, evse_id))
        if state is not None and state.paused is not None:
            return True
        return self.in_force(station_id, evse_id, ChargingRateUnit.A) == 0

    def paused_with(self, station_id: str, evse_id: int) -> ChargingProfilePurpose | None:
        """How the switch paused the EVSE's transaction (None: it did not)."""
        state = self._evses.get((station_id, evse_id))
        return state.paused if state is not None else None

    async def async_pause(self, station_id: str, evse_id: int) -> None:
        """Pause the running transaction with a 0 A limit: the session stays, the car waits, resuming is instant.

        Stop and start would end the session, and some stations refuse a start soon after a stop (they stay in
        Finishing or SuspendedEV): a pause avoids both. A 0 A TxProfile for the transaction; a TxDefaultProfile
        where the station takes no TxProfile (lifted when the transaction ends).
        """
        station = self.context.connected(station_id)
        transaction_id = self.transactions(station_id, evse_id).get(evse_id)
        if transaction_id is None:
            raise station_error("no_transaction", station_id, evse=str(evse_id))
        state = self.evse(station_id, evse_id)
        used: list[ChargingProfilePurpose] = []

        def build() -> list[SetChargingProfileRequest]:
            tx_profiles = self._habits(station_id).tx_profiles
            purpose = ChargingProfilePurpose.TX_PROFILE if tx_profiles else ChargingProfilePurpose.TX_DEFAULT_PROFILE
            used.append(purpose)
            return [
                limit_profile(
                    self.allocator(station_id),
                    self.capabilities(station_id),
                    evse_id=evse_id,
                    limit=0,
                    unit=ChargingRateUnit.A,
                    now=datetime.now(UTC),
                    purpose=purpose,
                    transaction_id=transaction_id if tx_profiles else None,
                )
            ]

        await self._send_profiles(station, evse_id, build)
        state.paused = used[-1]
        state.filter.invalidate()  # the next limit goes out as asked, not held back against the 0
        self._signal(station_id, evse_id)

    async def async_resume(self, station_id: str, evse_id: int) -> None:
        """Lift a pause: the limit asked for before (if any) again, else none of ours."""
        self.context.connected(station_id)
        state = self.evse(station_id, evse_id)
        state.paused = None
        await self._async_lift_pause(station_id, evse_id)
        self._signal(station_id, evse_id)

    async def _async_lift_pause(self, station_id: str, evse_id: int) -> None:
        state = self.evse(station_id, evse_id)
        if state.requested is not None and state.requested[0] > 0:
            value, unit = state.requested
            await self._send_limit(self.context.connected(station_id), evse_id, value, unit, None, None, None)
            return
        allocator = self.allocator(station_id)
        requests = clear_limit_requests(allocator, evse_id=evse_id)
        self._save_allocator(station_id, allocator)
        for request in requests:
            response = await self.context.call(station_id, request, ClearChargingProfileResponse)
            _LOGGER.debug("%s EVSE %d: pause lifted: %s", station_id, evse_id, response.status)
        await self.async_read_back(station_id, evse_id)

    def electrics(self, station_id: str, evse_id: int, phases: int | None) -> tuple[float, int]:
        """The voltage (measured where reported) and number of phases to convert A and W with."""
        runtime = self.context.runtimes.get(station_id)
        voltage = DEFAULT_VOLTAGE
        supply = None
        if runtime is not None and evse_id > 0:
            measured = [v for v in runtime.transactions.evse(evse_id).meter.voltage_v.values() if v > 100]
            if measured:
                voltage = sum(measured) / len(measured)
            supply = self.capabilities(station_id).evse(evse_id).supply_phases
        return voltage, phases or supply or 3

    def transactions(self, station_id: str, evse_id: int) -> dict[int, str]:
        """The running transactions an EVSE's limit (EVSE 0: every EVSE) covers."""
        runtime = self.context.runtimes.get(station_id)
        if runtime is None:
            return {}
        running: dict[int, str] = {}
        for evse in runtime.transactions.evse_ids:
            if evse_id in (0, evse) and (transaction := runtime.transactions.evse(evse).transaction_id):
                running[evse] = transaction
        return running

    def charging(self, station_id: str, evse_id: int) -> bool:
        """Whether an EV charges on the EVSE (then the 6 A floor applies)."""
        runtime = self.context.runtimes.get(station_id)
        if runtime is None or evse_id <= 0:
            return False
        session = runtime.transactions.evse(evse_id)
        return session.active and session.charging_state is ChargingState.CHARGING

    def minimum(self, station_id: str, evse_id: int, unit: ChargingRateUnit) -> float:
        """The lowest limit a car charges at (below it only 0, a pause, makes sense), in `unit`."""
        voltage, phases = self.electrics(station_id, evse_id, None)
        current = self.evse(station_id, evse_id).filter.config.min_current
        return round(convert(current, ChargingRateUnit.A, unit, voltage=voltage, phases=phases), 1)

    def max_current(self, station_id: str, evse_id: int) -> float:
        """The highest current the EVSE can be given (A per phase)."""
        limits = self.capabilities(station_id).evse(evse_id)
        return round(limits.max_current, 1) if limits.max_current else DEFAULT_MAX_CURRENT

    def in_force(self, station_id: str, evse_id: int, unit: ChargingRateUnit) -> float | None:
        """The limit in force now, in `unit`: from the read-back composite schedule, else the last request."""
        state = self._evses.get((station_id, evse_id))
        if state is None:
            return None
        voltage, phases = self.electrics(station_id, evse_id, None)
        if state.composite is not None:
            period = state.composite.period_at(datetime.now(UTC))
            if period is not None and period.limit is not None:
                check = self.readback(station_id, evse_id)
                if check is not None and check.matches and check.unit is unit:
                    return round(check.requested, 1)  # no wandering from a unit round trip (16 A → W → 15.9 A)
                return round(
                    convert(
                        period.limit, state.composite.unit, unit, voltage=voltage, phases=period.number_phases or phases
                    ),
                    1,
                )
        if state.requested is None:
            return None
        value, requested_unit = state.requested
        return round(convert(value, requested_unit, unit, voltage=voltage, phases=phases), 1)

    def readback(self, station_id: str, evse_id: int) -> Readback | None:
        """How the limit in force compares with the last one asked for (None: none was asked for)."""
        state = self._evses.get((station_id, evse_id))
        if state is None or state.requested is None:
            return None
        value, unit = state.requested
        voltage, phases = self.electrics(station_id, evse_id, None)
        return readback(value, unit, state.composite, datetime.now(UTC), voltage=voltage, phases=phases)

    # ---- limits ------------------------------------------------------------------------------------------

    async def async_set_limit(
        self,
        station_id: str,
        evse_id: int,
        value: float,
        unit: ChargingRateUnit,
        *,
        phases: int | None = None,
        duration: timedelta | None = None,
        until: datetime | None = None,
        explicit: bool = False,
        fallback: float | None = None,
        phase_to_use: int | None = None,
    ) -> None:
        """Apply a charging limit (0 pauses) through the EVSE's flash-protection filter.

        `explicit`: a person asked for it (the UI, an action run by hand), or the same limit is sent again (a
        refresh of its validity, a switch of phases): it goes out at once; what automations ask for keeps the
        protection (dead band, increase interval). `fallback` (A): the energy manager's limit, valid for `duration`
        over this safe limit without end; `phase_to_use` goes with one phase (K01.FR.19, K01.FR.20).
        """
        managed = None if fallback is None else _Managed(fallback, phase_to_use)
        station = self.context.connected(station_id)
        await self._async_probe(station_id)
        state = self.evse(station_id, evse_id)
        before = state.requested
        state.requested = (value, unit)
        voltage, phases_used = self.electrics(station_id, evse_id, phases)
        now = datetime.now(UTC)
        decision = state.filter.request(
            value,
            unit,
            now,
            charging=self.charging(station_id, evse_id),
            explicit=explicit,
            voltage=voltage,
            phases=phases_used,
        )
        if state.deferred is not None:
            state.deferred()
            state.deferred = None
        if decision.send_now is not None:
            try:
                await self._send_limit(station, evse_id, decision.send_now, unit, phases, duration, until, managed)
            except HomeAssistantError:
                self._refused(station_id, evse_id, before)
                raise
        elif decision.due_at is not None:
            _LOGGER.debug("%s EVSE %d: increase to %s %s deferred", station_id, evse_id, value, unit)

            async def send_due(_now: datetime) -> None:
                state.deferred = None
                due = state.filter.due(datetime.now(UTC))
                if due.send_now is not None:
                    try:
                        await self._send_limit(
                            self.context.connected(station_id),
                            evse_id,
                            due.send_now,
                            due.unit,
                            phases,
                            duration,
                            until,
                            managed,
                        )
                    except HomeAssistantError as err:
                        self._refused(station_id, evse_id, before)
                        _LOGGER.warning("%s EVSE %d: deferred limit not applied: %s", station_id, evse_id, err)

            state.deferred = async_track_point_in_utc_time(self.context.hass, send_due, decision.due_at)
        self._signal(station_id, evse_id)

    async def _send_limit(  # noqa: PLR0917 - the limit's parts, passed through from async_set_limit
        self,
        station: Station,
        evse_id: int,
        value: float,
        unit: ChargingRateUnit,
        phases: int | None,
        duration: timedelta | None,
        until: datetime | None,
        managed: _Managed | None = None,
    ) -> None:
        station_id = station.station_id
        voltage, _ = self.electrics(station_id, evse_id, phases)
        if managed is not None and duration is not None:
            await self._send_managed(station, evse_id, value, unit, phases, duration, managed)
            return

        def build() -> list[SetChargingProfileRequest]:
            if evse_id == STATION_CAP:  # Absolute, with a startSchedule (K01.FR.38)
                return [
                    limit_profile(
                        self.allocator(station_id),
                        self.capabilities(station_id),
                        evse_id=0,
                        limit=value,
                        unit=unit,
                        now=datetime.now(UTC),
                        purpose=ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
                        role=ProfileRole.STATION_LIMIT,
                        number_phases=phases,
                        duration=duration,
                        until=until,
                        voltage=voltage,
                    )
                ]
            return limit_requests(
                self.allocator(station_id),
                self.capabilities(station_id),
                evse_id=evse_id,
                limit=value,
                unit=unit,
                now=datetime.now(UTC),
                transactions=self.transactions(station_id, evse_id),
                also_tx_profile=self._habits(station_id).tx_profiles,  # a running transaction gets its own too
                number_phases=phases,
                duration=duration,
                until=until,
                voltage=voltage,
            )

        await self._send_profiles(station, evse_id, build)

    async def async_ev_schedule(self, station_id: str, evse_id: int, ev_limit: float, unit: ChargingRateUnit) -> float:
        """A TxProfile for the EVSE's transaction within the EV's limit (K15.FR.07, K17.FR.07); the limit sent.

        The limit is the lowest of the EV's maximum, the limit in force on the EVSE (the user's) and the EVSE's
        own maximum; one schedule of one period (K15.FR.18, within any maxScheduleTuples).
        """
        station = self.context.connected(station_id)
        await self._async_probe(station_id)
        transaction = self.transactions(station_id, evse_id).get(evse_id)
        if transaction is None or evse_id <= 0:
            raise station_error("no_transaction", station_id, evse=str(evse_id))
        voltage, phases = self.electrics(station_id, evse_id, None)
        ceiling = convert(
            self.max_current(station_id, evse_id), ChargingRateUnit.A, unit, voltage=voltage, phases=phases
        )
        own = self.in_force(station_id, evse_id, unit)
        limit = round(min(value for value in (ev_limit, own, ceiling) if value is not None), 1)

        def build() -> list[SetChargingProfileRequest]:
            return [
                limit_profile(
                    self.allocator(station_id),
                    self.capabilities(station_id),
                    evse_id=evse_id,
                    limit=limit,
                    unit=unit,
                    now=datetime.now(UTC),
                    purpose=ChargingProfilePurpose.TX_PROFILE,
                    role=ProfileRole.LIMIT,
                    transaction_id=transaction,
                    voltage=voltage,
                )
            ]

        await self._send_profiles(station, evse_id, build)
        return limit

    async def _send_managed(  # noqa: PLR0917 - the limit's parts, passed through from async_set_limit
        self,
        station: Station,
        evse_id: int,
        value: float,
        unit: ChargingRateUnit,
        phases: int | None,
        valid_for: timedelta,
        managed: _Managed,
    ) -> None:
        """The energy manager's limit: live for `valid_for` over its safe limit (sent again only when it changed)."""
        station_id = station.station_id
        voltage, _ = self.electrics(station_id, evse_id, phases)
        state = self.evse(station_id, evse_id)
        tx_profiles = self._habits(station_id).tx_profiles
        layout = managed_layout(self.allocator(station_id), evse_id, tx_profiles=tx_profiles)
        needs_fallback = state.fallback != (managed.fallback, layout)

        def build() -> list[SetChargingProfileRequest]:
            return managed_requests(
                self.allocator(station_id),
                self.capabilities(station_id),
                evse_id=evse_id,
                limit=value,
                unit=unit,
                now=datetime.now(UTC),
                valid_for=valid_for,
                fallback=managed.fallback,
                transactions=self.transactions(station_id, evse_id),
                also_tx_profile=self._habits(station_id).tx_profiles,
                include_fallback=needs_fallback,
                number_phases=phases,
                phase_to_use=managed.phase_to_use,
                voltage=voltage,
            )

        state.fallback = None  # unknown until the station accepted it
        await self._send_profiles(station, evse_id, build)
        layout = managed_layout(self.allocator(station_id), evse_id, tx_profiles=self._habits(station_id).tx_profiles)
        state.fallback = (managed.fallback, layout)

    def managed_layout(self, station_id: str, evse_id: int) -> ManagedLayout:
        """How the energy manager's live and safe limits stand on the station's EVSE."""
        return managed_layout(self.allocator(station_id), evse_id, tx_profiles=self._habits(station_id).tx_profiles)

    def start_profile(self, station_id: str, evse_id: int, value: float, unit: ChargingRateUnit) -> ChargingProfile:
        """The TxProfile a remote start on the EVSE carries (F01.FR.08-11), with our id and stack level."""
        allocator = self.allocator(station_id)
        voltage, _ = self.electrics(station_id, evse_id, None)
        with translated_errors(station_id):
            profile = start_profile(
                allocator, self.capabilities(station_id), evse_id=evse_id, limit=value, unit=unit, voltage=voltage
            )
        self._save_allocator(station_id, allocator)
        self.evse(station_id, evse_id).requested = (value, unit)
        return profile

    async def async_set_schedule(
        self,
        station_id: str,
        evse_id: int,
        periods: list[SchedulePeriod],
        unit: ChargingRateUnit,
        *,
        tz: tzinfo,
        recurrence: RecurrencyKind | None = None,
    ) -> None:
        """Apply a schedule of limits (offsets or clock times; optionally recurring daily or weekly)."""
        station = self.context.connected(station_id)
        await self._async_probe(station_id)
        voltage, _ = self.electrics(station_id, evse_id, None)

        def build() -> list[SetChargingProfileRequest]:
            return schedule_requests(
                self.allocator(station_id),
                self.capabilities(station_id),
                evse_id=evse_id,
                periods=periods,
                unit=unit,
                now=datetime.now(UTC),
                tz=tz,
                recurrence=recurrence,
                transactions=self.transactions(station_id, evse_id),
                also_tx_profile=self._habits(station_id).tx_profiles,
                voltage=voltage,
            )

        await self._send_profiles(station, evse_id, build)

    async def async_send_profiles(
        self, station_id: str, evse_id: int, build: Callable[[], list[SetChargingProfileRequest]]
    ) -> None:
        """Send the profiles `build` makes (the departure planner's plan), then read the limit in force back.

        A refusal is a translated error; `build` runs with the station's allocator and capabilities up to date.
        """
        station = self.context.connected(station_id)
        await self._async_probe(station_id)
        await self._send_profiles(station, evse_id, build)

    async def async_clear(
        self,
        station_id: str,
        evse_id: int,
        *,
        purpose: ChargingProfilePurpose | None = None,
        stack_level: int | None = None,
        profile_id: int | None = None,
    ) -> list[str]:
        """Remove limits of the EVSE (EVSE 0: station-wide ones; the station cap); the station's answers.

        Without criteria: our limit and schedule profiles; when we know of none of ours (storage lost, profiles
        of an earlier install), the TxDefaultProfiles (for the cap: ChargingStationMaxProfiles) of the EVSE by
        criteria (K10.FR.02). With a profile id or criteria (purpose, stack level): exactly those (K10).
        """
        self.context.connected(station_id)
        allocator = self.allocator(station_id)
        target = 0 if evse_id == STATION_CAP else evse_id
        default_purpose = (
            ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE
            if evse_id == STATION_CAP
            else ChargingProfilePurpose.TX_DEFAULT_PROFILE
        )
        if profile_id is not None:
            requests = [ClearChargingProfileRequest(charging_profile_id=profile_id)]
        elif purpose is not None or stack_level is not None:
            criteria = ClearChargingProfile(
                evse_id=target, charging_profile_purpose=purpose or default_purpose, stack_level=stack_level
            )
            requests = [ClearChargingProfileRequest(charging_profile_criteria=criteria)]
            allocator.release(purpose or default_purpose, target, None)
        elif evse_id == STATION_CAP:
            requests = clear_requests(allocator, purpose=ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE)
        else:
            requests = [
                *clear_limit_requests(allocator, evse_id=evse_id),
                *clear_limit_requests(allocator, evse_id=evse_id, schedule=True),
            ]
        if not requests:  # none of ours on record: what the station holds for that purpose goes
            criteria = ClearChargingProfile(evse_id=target, charging_profile_purpose=default_purpose)
            requests = [ClearChargingProfileRequest(charging_profile_criteria=criteria)]
        self._save_allocator(station_id, allocator)
        state = self.evse(station_id, evse_id)
        state.requested = None
        state.fallback = None
        state.filter.invalidate()
        answers = []
        for request in requests:
            response = await self.context.call(station_id, request, ClearChargingProfileResponse)
            answers.append(response.status.value)
            if response.status is not ClearChargingProfileStatus.ACCEPTED:
                _LOGGER.info("%s: ClearChargingProfile(%s) answered %s", station_id, request, response.status)
        await self.async_read_back(station_id, evse_id)
        return answers

    async def async_get_profiles(
        self,
        station_id: str,
        evse_id: int | None,
        *,
        purpose: ChargingProfilePurpose | None = None,
        stack_level: int | None = None,
    ) -> list[dict[str, Any]]:
        """The charging profiles the station holds (K09), as it reports them: EVSE, source and profile each."""
        self._next_report_id += 1
        request_id = self._next_report_id
        report = self._reports[station_id, request_id] = _ProfilesReport()
        try:
            response = await self.context.call(
                station_id,
                GetChargingProfilesRequest(
                    request_id=request_id,
                    evse_id=evse_id,
                    charging_profile=ChargingProfileCriterion(
                        charging_profile_purpose=purpose, stack_level=stack_level
                    ),
                ),
                GetChargingProfilesResponse,
            )
            if response.status is GetChargingProfileStatus.NO_PROFILES:
                return []
            async with asyncio.timeout(REPORT_TIMEOUT):
                await report.complete.wait()
        except TimeoutError:
            _LOGGER.info("%s: ReportChargingProfiles %d incomplete after %g s", station_id, request_id, REPORT_TIMEOUT)
        finally:
            del self._reports[station_id, request_id]
        return report.profiles

    async def _report_charging_profiles(
        self, station: Station, request: ReportChargingProfilesRequest
    ) -> ReportChargingProfilesResponse:
        """A part of a GetChargingProfiles report (K09.FR.03): kept until the last (tbc false)."""
        report = self._reports.get((station.station_id, request.request_id))
        if report is not None:
            report.profiles.extend(
                {
                    "evse_id": request.evse_id,
                    "charging_limit_source": request.charging_limit_source.value,
                    "charging_profile": profile.to_payload(),
                }
                for profile in request.charging_profile
            )
            if not request.tbc:
                report.complete.set()
        return ReportChargingProfilesResponse()

    async def _send_profiles(
        self, station: Station, evse_id: int, build: Callable[[], list[SetChargingProfileRequest]]
    ) -> None:
        """Send the profiles `build` makes, in order; after a refusal, once more the station's other way (habits).

        A refusal is a status other than Accepted or a CALLERROR (a station checking against an older schema);
        no answer at all is an error as it is. The limit in force is read back in either case.
        """
        station_id = station.station_id
        habits = self._habits(station_id)
        try:
            with translated_errors(station_id):
                requests = build()
            refusal = await self._send_until_refused(station, requests)
            if refusal is None:
                return
            refused, status, reason = refusal
            if (fallback := habits.fallback_for(refused)) is None:
                raise station_error("profile_rejected", station_id, status=status, reason=reason)
            habits.learnt.add(fallback)  # tried once: kept only if the station takes it
            try:
                with translated_errors(station_id):
                    requests = build()
                if await self._send_until_refused(station, requests) is not None:
                    raise station_error("profile_rejected", station_id, status=status, reason=reason)
            except HomeAssistantError:
                habits.learnt.discard(fallback)
                raise
            _LOGGER.info(
                "%s: %s refused (%s, %s); this station's other way works and is used from now on: %s",
                station_id,
                refused.charging_profile.charging_profile_purpose,
                status,
                reason,
                fallback,
            )
            if (runtime := self.context.runtimes.get(station_id)) is not None:
                runtime.worked_around(f"charging_{fallback}")
                runtime.schedule_save_sessions()
        finally:
            await self.async_read_back(station_id, evse_id)

    async def _send_until_refused(
        self, station: Station, requests: list[SetChargingProfileRequest]
    ) -> tuple[SetChargingProfileRequest, str, str] | None:
        """Send in order; the first refused request, with the status and reason of the refusal."""
        station_id = station.station_id
        allocator = self.allocator(station_id)
        self._save_allocator(station_id, allocator)
        for request in requests:
            outcome = await station.session.call_outcome(request, SetChargingProfileResponse)
            if isinstance(outcome, SetChargingProfileResponse):
                if outcome.status is ChargingProfileStatus.ACCEPTED:
                    continue
                status = outcome.status.value
                reason = outcome.status_info.reason_code if outcome.status_info else "-"
            elif isinstance(outcome, CallErrorResponse):
                status, reason = "CALLERROR", outcome.raw_code
            elif isinstance(outcome, InvalidResponse):
                status, reason = "invalid response", outcome.code.value
            else:
                raise call_failed(station_id, outcome)
            allocator.release(request.charging_profile.charging_profile_purpose, request.evse_id, None)
            self._save_allocator(station_id, allocator)
            return request, status, reason
        return None

    def _habits(self, station_id: str) -> ChargingHabits:
        runtime = self.context.runtimes.get(station_id)
        return runtime.charging_habits if runtime is not None else ChargingHabits()

    @callback
    def _refused(self, station_id: str, evse_id: int, before: tuple[float, ChargingRateUnit] | None) -> None:
        """A limit did not go out: the EVSE shows the one in force (read back) and the one asked for before."""
        state = self.evse(station_id, evse_id)
        state.requested = before
        state.fallback = None
        state.filter.invalidate()
        self._signal(station_id, evse_id)

    async def async_read_back(self, station_id: str, evse_id: int) -> None:
        """Read the composite schedule of the EVSE (and of every EVSE, for EVSE 0) to show the limit in force."""
        station = self.context.central.stations.get(station_id)
        if station is None or not station.connected:
            return
        runtime = self.context.runtimes.get(station_id)
        targets = [evse_id] if evse_id > 0 or runtime is None else [0, *sorted(runtime.known_evses)]
        for target in targets:
            outcome = await station.session.call_outcome(
                GetCompositeScheduleRequest(duration=READBACK_SECONDS, evse_id=target), GetCompositeScheduleResponse
            )
            if isinstance(outcome, GetCompositeScheduleResponse):
                composite = parse_composite(outcome)
                self.evse(station_id, target).composite = composite
                self._signal(station_id, target)
                if target == 0:  # the station-wide composite is what the cap allows (K08.FR.03)
                    self.evse(station_id, STATION_CAP).composite = composite
                    self._signal(station_id, STATION_CAP)

    async def async_composite(
        self, station_id: str, evse_id: int, duration: int, unit: ChargingRateUnit | None
    ) -> GetCompositeScheduleResponse:
        """The station's composite schedule of an EVSE (K08), also kept for the sensors."""
        response = await self.context.call(
            station_id,
            GetCompositeScheduleRequest(duration=duration, evse_id=evse_id, charging_rate_unit=unit),
            GetCompositeScheduleResponse,
        )
        composite = parse_composite(response)
        if composite is not None and duration >= READBACK_SECONDS:
            self.evse(station_id, evse_id).composite = composite
            self._signal(station_id, evse_id)
        return response

    # ---- external limits (K11-K13) -----------------------------------------------------------------------

    async def _notify_charging_limit(
        self, station: Station, request: NotifyChargingLimitRequest
    ) -> NotifyChargingLimitResponse:
        evse_id = request.evse_id or 0
        state = self.evse(station.station_id, evse_id)
        state.external = request.charging_limit
        state.external_schedule = request.charging_schedule
        self._signal(station.station_id, evse_id)
        self._external(
            station.station_id,
            ExternalLimitChange("notified", str(request.charging_limit.charging_limit_source), evse_id),
        )
        self.context.background(self.async_read_back(station.station_id, evse_id), f"{DOMAIN} read back")
        return NotifyChargingLimitResponse()

    async def _cleared_charging_limit(
        self, station: Station, request: ClearedChargingLimitRequest
    ) -> ClearedChargingLimitResponse:
        evse_id = request.evse_id or 0
        state = self.evse(station.station_id, evse_id)
        state.external = None
        state.external_schedule = None
        self._signal(station.station_id, evse_id)
        self._external(station.station_id, ExternalLimitChange("cleared", str(request.charging_limit_source), evse_id))
        self.context.background(self.async_read_back(station.station_id, evse_id), f"{DOMAIN} read back")
        return ClearedChargingLimitResponse()

    # ---- helpers -----------------------------------------------------------------------------------------

    @callback
    def _signal(self, station_id: str, evse_id: int) -> None:
        """Station-wide limits (EVSE 0) show on the station's entities; the others on the EVSE's (or the cap's)."""
        entry_id = self.context.entry_id
        if evse_id == 0:
            self.context.signal(station_signal(entry_id, station_id))
        else:
            self.context.signal(evse_signal(entry_id, station_id, evse_id))

    @callback
    def _external(self, station_id: str, change: ExternalLimitChange) -> None:
        self.context.signal(external_limit_signal(self.context.entry_id, station_id), change)

    @callback
    def async_shutdown(self) -> None:
        """Cancel deferred increases (unload)."""
        for state in self._evses.values():
            if state.deferred is not None:
                state.deferred()
                state.deferred = None
