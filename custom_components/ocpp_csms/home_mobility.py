"""The home mobility operator: Plug & Charge contracts for the household's own cars (M01, M02, C07).

The user assigns an eMAID to each of the household's cars, by the car's PCID (the CN of its OEM provisioning
certificate), in the ISO 15118 options (`CONF_HOME_CONTRACTS`). Then:

- Get15118EVCertificate (Install, M01): the car's signed CertificateInstallationReq gets a contract certificate for
  its eMAID, issued by the integration's MO sub-CA and signed for the EV by a provisioning service under the V2G root
  (`v2g.contract.issue_contract`, CPU work run in an executor). Update (M02) renews a contract this operator issued
  while its eMAID is still assigned. A car without an assignment, or a refused request, is answered Failed with the
  reason (and, when the request could be read, the EXI answer with the FAILED_* code for the EV).
- Authorize with one of its contracts (C07): the operator is its own responder; the contract is good while its
  eMAID is assigned and revoked once the assignment is removed (`v2g.contract.contract_status`). An assigned eMAID
  is accepted as a token without listing it; listed, the list's decision (say Blocked) applies.
- The MO root (`mo-root.crt`) is what a station installs as MORootCertificate to check these contracts itself.

The operator's CAs are made on first use and kept in the certificate folder (`v2g.issuers.GENERATED_FILES`, deleted
with the integration).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
import logging
from pathlib import Path
import re
from typing import Final

from homeassistant.core import HomeAssistant

from .protocol.v201.enums import AuthorizeCertificateStatus
from .protocol.v201.messages import AuthorizeRequest, Get15118EVCertificateRequest
from .v2g.contract import ContractOutcome, HomeMobilityOperator, contract_status, issue_contract
from .v2g.issuers import MO_SUB_CA_NAME

_LOGGER = logging.getLogger(__name__)

#: A PCID (ISO 15118-2: 17 characters and an optional check digit) and an eMAID (14 or 15 characters, no dashes).
PCID_PATTERN: Final = re.compile(r"[A-Z0-9]{17,18}")
EMAID_PATTERN: Final = re.compile(r"[A-Z0-9]{14,15}")
#: What separates a PCID from its eMAID on a line of the options' text.
_SEPARATOR: Final = re.compile(r"[\s=:,;]+")


class ContractLineError(ValueError):
    """A line of the assignments that is not "PCID eMAID" (`line` is the line, as the user wrote it)."""

    def __init__(self, line: str, duplicate: bool = False) -> None:
        """The line, and whether it repeats a car already listed."""
        super().__init__(line)
        self.line = line
        self.duplicate = duplicate


def parse_contracts(text: str) -> dict[str, str]:
    """The assignments written one per line as "PCID eMAID" (blank lines skipped): PCID -> eMAID, upper case.

    ContractLineError names the first line that is not a PCID and an eMAID, or that repeats a car.
    """
    contracts: dict[str, str] = {}
    for raw in text.splitlines():
        if not (line := raw.strip()):
            continue
        parts = _SEPARATOR.split(line.upper())
        if len(parts) != 2 or not PCID_PATTERN.fullmatch(parts[0]) or not EMAID_PATTERN.fullmatch(parts[1]):
            raise ContractLineError(line)
        if parts[0] in contracts:
            raise ContractLineError(line, duplicate=True)
        contracts[parts[0]] = parts[1]
    return contracts


def format_contracts(contracts: Mapping[str, str]) -> str:
    """The assignments as the options' text."""
    return "\n".join(f"{pcid} {emaid}" for pcid, emaid in contracts.items())


class HomeMobility:
    """The household's contracts: the eMAIDs assigned to its cars, and the operator that issues them."""

    def __init__(self, hass: HomeAssistant, certificate_dir: Path, contracts: Mapping[str, str]) -> None:
        """`contracts`: PCID -> eMAID, as the options keep them (a live option: `contracts` may be replaced)."""
        self.hass = hass
        self.certificate_dir = certificate_dir
        self.contracts: dict[str, str] = {pcid.upper(): emaid.upper() for pcid, emaid in contracts.items()}
        self._operator: HomeMobilityOperator | None = None
        self._lock = asyncio.Lock()

    def assigned(self, emaid: str) -> bool:
        """Whether an eMAID is assigned to one of the cars."""
        return emaid.upper() in self.contracts.values()

    async def _async_operator(self, *, create: bool) -> HomeMobilityOperator | None:
        """The operator (its CAs made on first use when `create`; else only when they were made before)."""
        async with self._lock:
            if self._operator is None and (
                create
                or await self.hass.async_add_executor_job((self.certificate_dir / f"{MO_SUB_CA_NAME}.crt").exists)
            ):
                self._operator = await self.hass.async_add_executor_job(
                    HomeMobilityOperator.ensure, self.certificate_dir
                )
            return self._operator

    async def async_certificate(self, station_id: str, request: Get15118EVCertificateRequest) -> ContractOutcome | None:
        """The operator's answer for one of the household's cars (M01, M02); None when no car has an eMAID."""
        if not self.contracts:
            return None
        try:
            exi = base64.b64decode(request.exi_request, validate=True)
        except binascii.Error, ValueError:
            return ContractOutcome(False, None, "the EXI request is not base64")
        operator = await self._async_operator(create=True)
        if operator is None:  # pragma: no cover - made when `create`
            return ContractOutcome(False, None, "the home mobility operator could not be made")
        contracts = dict(self.contracts)
        outcome = await self.hass.async_add_executor_job(
            lambda: issue_contract(
                exi,
                request.action,
                request.iso15118_schema_version,
                operator,
                contracts.get,
                emaid_active=lambda emaid: emaid.upper() in contracts.values(),
            )
        )
        if outcome.accepted:
            _LOGGER.info(
                "%s: contract certificate for the car %s (eMAID %s): %s%s",
                station_id,
                outcome.pcid,
                outcome.emaid,
                request.action,
                "" if outcome.v2g_root_listed else " (the EV did not list the integration's V2G root)",
            )
        else:
            _LOGGER.info("%s: no contract certificate (%s): %s", station_id, request.action, outcome.reason)
        return outcome

    async def async_contract_status(self, request: AuthorizeRequest) -> AuthorizeCertificateStatus | None:
        """The status of a contract the home operator issued (C07); None when it is not one of them."""
        operator = await self._async_operator(create=False)
        if operator is None:
            return None
        emaid = request.id_token.id_token
        return contract_status(
            operator.mo_issuer.certificate,
            emaid,
            hash_data=request.iso15118_certificate_hash_data,
            chain_pem=request.certificate,
            assigned=self.assigned(emaid),
            now=datetime.now(UTC),
        )
