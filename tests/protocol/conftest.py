"""Fixtures of the protocol tests: a websocket CSMS on 127.0.0.1 hosting RpcSessions."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from .ws_harness import WsCsms, running_csms

type CsmsFactory = Callable[..., AbstractAsyncContextManager[WsCsms]]


@pytest.fixture
def ws_csms(socket_enabled: None) -> CsmsFactory:
    """A factory of websocket CSMSs on 127.0.0.1, each used as an async context manager.

    `async with ws_csms(setup, lenient=True) as csms:` runs one for the block, its sessions set up by `setup`
    and created with the keyword options. Depends on `socket_enabled`: the Home Assistant test plugin blocks
    sockets otherwise.
    """
    return running_csms
