"""The station identity a websocket path names (Part 4 §3.2): the last segment, percent-decoded, checked."""

from __future__ import annotations

import pytest

from custom_components.ocpp_csms.csms.identity import MAX_IDENTITY_LENGTH, station_id_from_path


@pytest.mark.parametrize(
    ("path", "identity"),
    [
        ("/CP-1", "CP-1"),
        ("/ocpp/CP-1", "CP-1"),
        ("/ocpp/v201/CP-1/", "CP-1"),  # a trailing slash
        ("/ocpp/CP-1?token=x", "CP-1"),  # the query is no part of it
        ("/ocpp/CP%201", "CP 1"),  # percent-decoded
        ("/ocpp/Ladestation-M%C3%BCnchen", "Ladestation-München"),
        ("/ocpp/" + "x" * MAX_IDENTITY_LENGTH, "x" * MAX_IDENTITY_LENGTH),
    ],
)
def test_the_last_path_segment_is_the_identity(path: str, identity: str) -> None:
    assert station_id_from_path(path) == identity


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/", id="no segment"),
        pytest.param("", id="empty"),
        pytest.param("/ocpp/" + "x" * (MAX_IDENTITY_LENGTH + 1), id="identifierString[48] exceeded"),
        pytest.param("/ocpp/CP:1", id="colon: the Basic auth username cannot hold it (A00.FR.202)"),
        pytest.param("/ocpp/CP%3A1", id="colon, percent-encoded"),
        pytest.param("/ocpp/CP-%FF", id="not UTF-8 once decoded"),
        pytest.param("/ocpp/CP%0A1", id="a control character"),
        pytest.param("/ocpp/%20CP-1", id="leading white space"),
        pytest.param("/ocpp/CP-1%20", id="trailing white space"),
    ],
)
def test_a_path_without_a_valid_identity_names_none(path: str) -> None:
    assert station_id_from_path(path) is None
