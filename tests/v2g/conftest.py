"""The operator's CAs, made once per test session, and the EXI oracle when it is available."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custom_components.ocpp_csms.v2g.contract import HomeMobilityOperator

from .exificient import Oracle, oracle_session, unavailable_reason


@pytest.fixture(scope="session")
def operator_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The certificate folder of the session's operator."""
    return tmp_path_factory.mktemp("v2g-certificates")


@pytest.fixture(scope="session")
def operator(operator_dir: Path) -> HomeMobilityOperator:
    """The home mobility operator, its CAs made once."""
    return HomeMobilityOperator.ensure(operator_dir)


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    """EXIficient, or a skip saying why it is not there."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    yield from oracle_session()
