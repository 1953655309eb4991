"""The operator's CAs, made once per test session, and the EXI oracle when it is available."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_socket import enable_socket

from custom_components.ocpp_csms.v2g.contract import HomeMobilityOperator

from .exificient import Oracle, unavailable_reason


@pytest.fixture(scope="session")
def operator_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The certificate folder of the session's operator."""
    return tmp_path_factory.mktemp("v2g-certificates")


@pytest.fixture(scope="session")
def operator(operator_dir: Path) -> HomeMobilityOperator:
    """The home mobility operator, its CAs made once."""
    return HomeMobilityOperator.ensure(operator_dir)


@pytest.fixture(scope="session")
def oracle_jvm() -> Iterator[Oracle]:
    """EXIficient in a JVM for the session (py4j talks to it over 127.0.0.1), or a skip saying why it is not there."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    enable_socket()  # the test plugin blocks sockets outside `socket_enabled`; the gateway starts and stops outside
    oracle = Oracle()
    yield oracle
    enable_socket()
    oracle.close()


@pytest.fixture
def oracle(oracle_jvm: Oracle, socket_enabled: None) -> Oracle:
    """The oracle, for a test that may use sockets."""
    return oracle_jvm
