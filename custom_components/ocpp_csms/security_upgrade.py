"""Upgrading a station's security profile from Home Assistant (A05), step by step, rolled back on failure.

1. InstallCertificate: the integration's CSMS root, so the station can verify the wss:// listener (A05.FR.02).
2. For profile 3, SignCertificate: the station is asked for a CSR (TriggerMessage SignChargingStationCertificate)
   and gets its station certificate (A02); the upgrade waits until the station accepted it (A05.FR.03).
3. SetNetworkProfile: a free configuration slot gets a connection profile for the wss:// listener on the target
   profile (B09).
4. SetVariables: NetworkConfigurationPriority puts that slot first, the current ones after it (A05 step 1).
5. Reset (OnIdle): the station reboots and connects through its new first profile (A05.FR.05).
6. Reconnect: the upgrade is confirmed when the station comes back on the target profile; from then on the
   registry refuses it on a lower one (A05.FR.07).

A failure names its step and the station's answer. From step 4 on, the previous NetworkConfigurationPriority is
restored when the station can be reached, so that it keeps (or goes back to) the profile it had; the registry keeps
the old profile until the new one is confirmed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
import logging
from typing import Any, Final

from homeassistant.exceptions import HomeAssistantError

from .context import StationContext
from .csms.registry import SecurityProfile
from .helpers import station_error, user_error
from .protocol.v201.datatypes import Component, GetVariableData, NetworkConnectionProfile, SetVariableData, Variable
from .protocol.v201.enums import (
    GetVariableStatus,
    InstallCertificateUse,
    MessageTrigger,
    OCPPInterface,
    OCPPTransport,
    OCPPVersion,
    Reset,
    SetNetworkProfileStatus,
    SetVariableStatus,
    TriggerMessageStatus,
)
from .protocol.v201.messages import (
    GetVariablesRequest,
    GetVariablesResponse,
    SetNetworkProfileRequest,
    SetNetworkProfileResponse,
    SetVariablesRequest,
    SetVariablesResponse,
)

_LOGGER = logging.getLogger(__name__)

#: How long the station may take to sign (step 2) and to come back after the reset (step 6), by default.
SIGN_TIMEOUT: Final = 60.0
RECONNECT_TIMEOUT: Final = 300.0
#: The message timeout of the new connection profile (seconds).
MESSAGE_TIMEOUT: Final = 30
PRIORITY: Final = (Component(name="OCPPCommCtrlr"), Variable(name="NetworkConfigurationPriority"))


class SecurityUpgrade:
    """Runs A05 for the stations of one config entry."""

    def __init__(
        self,
        context: StationContext,
        *,
        tls_url: str | None,
        install_root: Callable[[str, InstallCertificateUse], Awaitable[str]],
        has_new_certificate: Callable[[str, float], bool],
        reset: Callable[[str, Reset], Awaitable[str]],
    ) -> None:
        """`tls_url`: the wss:// listener as stations reach it (None: no TLS listener); the rest from the services.

        `install_root` installs the integration's CSMS root; `has_new_certificate(station, since)` says whether
        the station accepted a station certificate issued after `since` (loop time).
        """
        self.context = context
        self.tls_url = tls_url
        self._install_root = install_root
        self._has_new_certificate = has_new_certificate
        self._reset = reset
        self.sign_timeout = SIGN_TIMEOUT

    def _failed(self, station_id: str, step: str, status: str) -> HomeAssistantError:
        _LOGGER.warning("%s: security profile upgrade failed at %s (%s)", station_id, step, status)
        return station_error("upgrade_failed", station_id, step=step, status=status)

    async def _step[T](self, station_id: str, step: str, work: Awaitable[T]) -> T:
        """Run a step; a translated error of the station (refused, no answer) names the step."""
        try:
            return await work
        except HomeAssistantError as err:
            placeholders = err.translation_placeholders or {}
            raise self._failed(station_id, step, placeholders.get("status") or err.translation_key or "-") from err

    async def async_upgrade(
        self,
        station_id: str,
        profile: int,
        *,
        interface: OCPPInterface = OCPPInterface.WIRED0,
        within: float = RECONNECT_TIMEOUT,
    ) -> dict[str, Any]:
        """Upgrade the station to security profile 2 or 3 (A05): what was done; a failure names the step."""
        target = SecurityProfile(profile)
        record = self.context.central.registry.get(station_id)
        if record is None:
            raise user_error("not_a_station", device=station_id)
        if self.tls_url is None:
            raise user_error("tls_listener_required")
        if record.security_profile >= target:
            raise user_error("profile_not_higher", station=station_id, profile=str(int(record.security_profile)))
        self.context.connected(station_id)
        loop = asyncio.get_running_loop()
        done: list[str] = []

        await self._step(
            station_id,
            "InstallCertificate",
            self._install_root(station_id, InstallCertificateUse.CSMS_ROOT_CERTIFICATE),
        )
        done.append("InstallCertificate")
        if target is SecurityProfile.TLS_CLIENT_CERTIFICATE:
            since = loop.time()
            status = await self.context.central.trigger(station_id, MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE)
            if status is not TriggerMessageStatus.ACCEPTED:
                raise self._failed(station_id, "TriggerMessage", status.value if status else "NoAnswer")
            try:
                async with asyncio.timeout(self.sign_timeout):
                    while not self._has_new_certificate(station_id, since):  # noqa: ASYNC110 - another service's
                        await asyncio.sleep(0.05)
            except TimeoutError as err:
                raise self._failed(station_id, "SignCertificate", "Timeout") from err
            done.append("SignCertificate")

        old_priority, slot = await self._free_slot(station_id)
        response = await self._step(
            station_id,
            "SetNetworkProfile",
            self.context.call(
                station_id,
                SetNetworkProfileRequest(
                    configuration_slot=slot,
                    connection_data=NetworkConnectionProfile(
                        ocpp_version=OCPPVersion.OCPP20,
                        ocpp_transport=OCPPTransport.JSON,
                        ocpp_csms_url=self.tls_url,
                        message_timeout=MESSAGE_TIMEOUT,
                        security_profile=int(target),
                        ocpp_interface=interface,
                    ),
                ),
                SetNetworkProfileResponse,
            ),
        )
        if response.status is not SetNetworkProfileStatus.ACCEPTED:
            raise self._failed(station_id, "SetNetworkProfile", response.status.value)
        done.append("SetNetworkProfile")

        new_priority = ",".join([str(slot), *(s for s in old_priority.split(",") if s and s != str(slot))])
        status_set = await self._set_priority(station_id, new_priority)
        if status_set not in (SetVariableStatus.ACCEPTED, SetVariableStatus.REBOOT_REQUIRED):
            raise self._failed(station_id, "SetVariables", status_set.value)
        done.append("SetVariables")
        try:
            await self._step(station_id, "Reset", self._reset(station_id, Reset.ON_IDLE))
            done.append("Reset")
            await self._await_reconnect(station_id, target, within)
        except HomeAssistantError:
            await self._roll_back(station_id, old_priority)
            raise
        done.append("Reconnect")
        current = self.context.central.registry.get(station_id) or record
        self.context.central.registry.put(replace(current, security_profile=target))  # A05.FR.07: never lower
        _LOGGER.info("%s: now on security profile %d; lower profiles are refused", station_id, int(target))
        return {"security_profile": int(target), "steps": done}

    async def _free_slot(self, station_id: str) -> tuple[str, int]:
        """The current NetworkConfigurationPriority and a configuration slot it does not use."""
        response = await self._step(
            station_id,
            "GetVariables",
            self.context.call(
                station_id,
                GetVariablesRequest(get_variable_data=[GetVariableData(component=PRIORITY[0], variable=PRIORITY[1])]),
                GetVariablesResponse,
            ),
        )
        result = response.get_variable_result[0]
        if result.attribute_status is not GetVariableStatus.ACCEPTED:
            raise self._failed(station_id, "GetVariables", result.attribute_status.value)
        current = result.attribute_value or ""
        used = {int(slot) for slot in current.split(",") if slot.strip().isdigit()}
        runtime = self.context.runtimes.get(station_id)
        info = runtime.device_model.find(*(p.name for p in PRIORITY)) if runtime is not None else None
        allowed = (
            [int(v) for v in info.characteristics.values_list if v.isdigit()] if info and info.characteristics else []
        )
        free = [slot for slot in allowed if slot not in used]
        return current, free[0] if free else max(used, default=0) + 1

    async def _set_priority(self, station_id: str, value: str) -> SetVariableStatus:
        response = await self._step(
            station_id,
            "SetVariables",
            self.context.call(
                station_id,
                SetVariablesRequest(
                    set_variable_data=[
                        SetVariableData(attribute_value=value, component=PRIORITY[0], variable=PRIORITY[1])
                    ]
                ),
                SetVariablesResponse,
            ),
        )
        return response.set_variable_result[0].attribute_status

    async def _await_reconnect(self, station_id: str, target: SecurityProfile, within: float) -> None:
        """Until the station is connected again on the target profile; a lower one or none in time fails."""
        station = self.context.central.station(station_id)
        first = station.connection
        try:
            async with asyncio.timeout(within):
                while True:
                    await asyncio.sleep(0.05)
                    credentials = station.credentials
                    if station.connection is None or station.connection is first or credentials is None:
                        continue
                    if credentials.profile >= target:
                        return
                    raise self._failed(station_id, "Reconnect", f"SecurityProfile{int(credentials.profile)}")
        except TimeoutError as err:
            raise self._failed(station_id, "Reconnect", "Timeout") from err

    async def _roll_back(self, station_id: str, old_priority: str) -> None:
        """Restore NetworkConfigurationPriority, when the station can be reached (else it falls back by itself)."""
        if not self.context.is_connected(station_id) or not old_priority:
            return
        try:
            await self._set_priority(station_id, old_priority)
        except HomeAssistantError:
            _LOGGER.warning("%s: NetworkConfigurationPriority could not be restored", station_id)
            return
        _LOGGER.info("%s: NetworkConfigurationPriority restored to %s", station_id, old_priority)
