"""The OCPP-J RPC session of one connected charging station (Part 4 §4), independent of the transport.

The host (the websocket listener, or a test) gives the session an async `send` callable and feeds it every
message it receives with `await session.receive(message)`. The session then

- serves CALLs from the station with the handlers registered by `on(RequestModel, handler)`, each in its own
  task (started eagerly: a handler that does not wait finishes before `receive` returns), so a handler may
  itself `call` the station and the host keeps reading;
- answers every CALL it cannot serve with the CALLERROR Part 4 §4.3 prescribes;
- sends our CALLs with `call`, at most one outstanding at a time (Part 4 §4.1.1, Part 2 FR.01): further calls
  wait in FIFO order until the previous one is answered or has timed out; at most MAX_QUEUED_CALLS wait (a
  station that answers nothing holds up no more: beyond, `CallQueueFull` at once);
- serves at most MAX_CONCURRENT_CALLS of the station's CALLs at once: a station flooding CALLs without waiting
  for our answers gets GenericError for the excess (one log line per session).

A CALL from the station goes through, in this order: the frame (RpcFrameworkError, MessageTypeNotSupported),
the action (NotImplemented when unknown, NotSupported when no handler is registered), the payload (the code of
`errors.error_code_for`; in lenient mode after a repair attempt, see `lenient`), the `guard` (a host's veto,
e.g. SecurityError before the station is accepted, FR.04), then the handler (OcppError → that CALLERROR, any
other exception → InternalError, logged).

Outcomes of `call`: the typed response model, or a `CallFailed` — `CallErrorResponse` (the station answered a
CALLERROR), `InvalidResponse` (its CALLRESULT does not validate), `CallTimeout` or `SessionClosed`.
`call` raises them; `call_outcome` returns them, for callers that prefer to match on a union.

`send` may be called by several tasks at once (answers of concurrent handlers, our CALL); each call must send
one whole message, as `websockets` does.

Every message in and out goes to the opt-in `ocpp_csms.frames` logger (`frame_log`), secrets redacted. Nothing
this module logs holds a secret: a handler's error on a request that holds one is logged without the
exception's text, lenient-mode repairs of a secret value do not show it, and when the station echoes a secret
of our CALL (say the new BasicAuthPassword in a CALLERROR description), the outcome has it replaced.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
import logging
from pathlib import PurePath
from typing import Any, Final, Protocol, cast

import orjson
from pydantic import ValidationError

from .errors import OcppError, RpcErrorCode, error_code_for, error_description
from .frame_log import (
    FRAMES,
    RECEIVED,
    REDACTED,
    SENT,
    holds_secret,
    redact_frame,
    scrub_json,
    scrub_text,
    scrub_value,
    secret_paths,
    secret_values,
)
from .frames import (
    UNREADABLE_MESSAGE_ID,
    CallErrorFrame,
    CallFrame,
    CallResultFrame,
    FrameError,
    RawJson,
    dump_call,
    dump_call_error,
    dump_call_result,
    new_message_id,
    parse_frame,
    parse_frame_strict,
)
from .lenient import Violation, ViolationKind, repair
from .model import OcppModel
from .v201.messages import ACTIONS

_LOGGER = logging.getLogger(__name__)

#: What runs once the answer to the CALL being served has been sent (see `after_answer`).
_AFTER_ANSWER: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_answer", default=None)


def after_answer(callback: Callable[[], None]) -> None:
    """Run `callback` once the answer to the CALL being served has gone out (e.g. a BootNotification's).

    What a handler starts that sends CALLs of its own then reaches the station after its answer, as a station
    still waiting for its answer may refuse them. Outside a handler, `callback` runs at once.
    """
    pending = _AFTER_ANSWER.get()
    if pending is None:
        callback()
    else:
        pending.append(callback)


#: Part 2 §3.2 suggests starting with 30 seconds.
DEFAULT_CALL_TIMEOUT: Final = 30.0
DEFAULT_MAX_VIOLATIONS: Final = 50
#: How many answered or timed-out message ids are remembered to recognise late and duplicate responses.
_RECENT_IDS: Final = 32
#: Our CALLs waiting behind the outstanding one, at most: a station that answers nothing holds up no more.
MAX_QUEUED_CALLS: Final = 64
#: The station's CALLs being served at once, at most. OCPP-J allows one (Part 4 §4.1.1); the slack serves a
#: station that sends its next CALL just before reading our answer. Beyond it: CALLERROR GenericError.
MAX_CONCURRENT_CALLS: Final = 8

type Send = Callable[[bytes], Awaitable[object]]
"""Sends one message. OCPP-J uses text frames only: a websockets host passes `lambda m: ws.send(m, text=True)`."""

type Handler[Req: OcppModel, Resp: OcppModel] = Callable[[Req], Awaitable[Resp]]
"""Serves one CALL: typed request in, typed response out; raise OcppError to answer a specific CALLERROR."""

type Guard = Callable[[str, OcppModel], None]
"""Runs before every handler with the action and the validated request; raises OcppError to refuse the CALL."""


class ActionSpecLike(Protocol):
    """What the session needs of an action (`protocol.v201.messages.ActionSpec` is one)."""

    @property
    def name(self) -> str:
        """The action name on the wire, e.g. "BootNotification"."""

    @property
    def request(self) -> type[OcppModel]:
        """The request model."""

    @property
    def response(self) -> type[OcppModel]:
        """The response model."""


class CallFailed(Exception):  # noqa: N818 - a call outcome; the subclasses read as outcomes too
    """A CALL we sent did not produce a response model. Subclasses say why."""

    def __init__(self, action: str, message_id: str | None, message: str) -> None:
        """Keep which CALL failed."""
        super().__init__(f"{action} ({message_id or 'not sent'}): {message}")
        self.action = action
        self.message_id = message_id


class CallErrorResponse(CallFailed):
    """The station answered our CALL with a CALLERROR.

    `code` is the RpcErrorCode (GenericError when the station sent a code outside Part 4 §4.3, whose text is
    kept in `raw_code`).
    """

    def __init__(self, action: str, message_id: str, frame: CallErrorFrame) -> None:
        """Keep the error code, description and details the station sent."""
        try:
            code = RpcErrorCode(frame.code)
        except ValueError:
            code = RpcErrorCode.GENERIC_ERROR
        super().__init__(action, message_id, f"CALLERROR {frame.code}: {frame.description}")
        self.code = code
        self.raw_code = frame.code
        self.description = frame.description
        self.details = frame.details


class InvalidResponse(CallFailed):
    """The station's CALLRESULT (or CALLERROR frame) is not valid; `code` classifies it as Part 4 §4.3 would."""

    def __init__(self, action: str, message_id: str, code: RpcErrorCode, description: str) -> None:
        """Keep the classification of what is wrong."""
        super().__init__(action, message_id, f"invalid response, {code}: {description}")
        self.code = code
        self.description = description


class CallTimeout(CallFailed):
    """No response within the timeout (counted from sending the CALL, not from queueing it)."""

    def __init__(self, action: str, message_id: str, timeout: float) -> None:
        """Keep the timeout that elapsed."""
        super().__init__(action, message_id, f"no response within {timeout:g} s")
        self.timeout = timeout


class CallQueueFull(CallTimeout):
    """Not sent: MAX_QUEUED_CALLS of ours already wait for a station that does not answer (a timeout at once)."""

    def __init__(self, action: str) -> None:
        """Say which CALL was refused."""
        CallFailed.__init__(self, action, None, f"{MAX_QUEUED_CALLS} calls already wait for an answer")
        self.timeout = 0.0


class SessionClosed(CallFailed):
    """The session closed (or sending failed) before the CALL was answered; `__cause__` has any send error."""

    def __init__(self, action: str, message_id: str | None = None) -> None:
        """Say which CALL was cut off."""
        super().__init__(action, message_id, "connection closed")


@dataclass(frozen=True, slots=True)
class RecordedViolation:
    """A schema violation that lenient mode repaired, for diagnostics."""

    at: datetime
    action: str
    message_id: str
    path: str
    kind: ViolationKind
    detail: str


@dataclass(slots=True)
class _Pending:
    message_id: str
    spec: ActionSpecLike
    future: asyncio.Future[OcppModel | CallFailed]
    #: The secrets the CALL carried, kept only while it is outstanding: replaced wherever the answer echoes them.
    secrets: frozenset[str] = frozenset()


#: The known actions by request model (shared by the sessions using ACTIONS).
_BY_REQUEST: Final[dict[type[OcppModel], ActionSpecLike]] = {spec.request: spec for spec in ACTIONS.values()}


class RpcSession:
    """One station's OCPP-J session: serves its CALLs, sends ours one at a time (see the module doc)."""

    def __init__(
        self,
        send: Send,
        *,
        station_id: str = "",
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        lenient: bool = False,
        max_violations: int = DEFAULT_MAX_VIOLATIONS,
        guard: Guard | None = None,
        actions: Mapping[str, ActionSpecLike] = ACTIONS,
        fallback: Callable[[type[OcppModel]], Handler[Any, Any] | None] | None = None,
    ) -> None:
        """Set up a session that sends with `send`; `lenient` repairs payloads that bend the schema.

        `fallback` gives the handler of a request kind no `on` registered, made when such a CALL arrives (None:
        not served): a thousand sessions need not each hold a handler for every kind they might be sent.
        """
        self.station_id = station_id
        self.call_timeout = call_timeout
        self.lenient = lenient
        self.guard = guard
        self._violations: deque[RecordedViolation] | None = None  # made at the first (most stations have none)
        self._max_violations = max_violations
        self.violation_count = 0
        self._send = send
        self._actions = actions
        self._by_request = _BY_REQUEST if actions is ACTIONS else {spec.request: spec for spec in actions.values()}
        self._handlers: dict[str, Handler[Any, Any]] = {}
        self._fallback = fallback
        self._call_lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._recent_ids: deque[str] = deque(maxlen=_RECENT_IDS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued = 0
        self._closed = False
        #: The station's CALLs refused for exceeding MAX_CONCURRENT_CALLS, and our CALLs refused by a full queue.
        self.refused_calls = 0
        self.refused_own_calls = 0

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    # ---- serving the station's CALLs -------------------------------------------------------------------

    def on[Req: OcppModel, Resp: OcppModel](self, request: type[Req], handler: Handler[Req, Resp]) -> None:
        """Serve CALLs whose request model is `request` with `handler` (replacing any handler before)."""
        spec = self._by_request.get(request)
        if spec is None:
            raise TypeError(f"{request.__name__} is not the request of a known action")
        self._handlers[spec.name] = handler

    def off(self, request: type[OcppModel]) -> None:
        """Stop serving that action: further CALLs of it are answered NotSupported."""
        spec = self._by_request.get(request)
        if spec is not None:
            self._handlers.pop(spec.name, None)

    async def receive(self, message: RawJson) -> bool:
        """Take one message the station sent (a websocket text frame, as str or UTF-8 bytes).

        True when it answered one of our outstanding CALLs: traffic we asked for, which a per-station rate limit
        does not count (`csms.listener`).
        """
        if FRAMES.isEnabledFor(logging.DEBUG):
            pending = self._pending
            echoed = pending.secrets if pending is not None else ()
            FRAMES.debug("%s %s %s", self.station_id, RECEIVED, redact_frame(message, echoed))
        if self._closed:
            _LOGGER.debug("%s: session closed, message dropped", self.station_id)
            return False
        try:
            frame = parse_frame(message)
        except FrameError as exc:
            await self._frame_error(exc)
            return False
        if isinstance(frame, CallFrame):
            if len(self._tasks) >= MAX_CONCURRENT_CALLS:
                await self._refuse_flood(frame)
                return False
            task = asyncio.Task(self._serve(frame), loop=asyncio.get_running_loop(), eager_start=True)
            if not task.done():
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return False
        if isinstance(frame, CallResultFrame):
            return self._result(frame)
        return self._error(frame)

    async def _refuse_flood(self, frame: CallFrame) -> None:
        """A CALL beyond MAX_CONCURRENT_CALLS: refused at once, logged once per session."""
        self.refused_calls += 1
        if self.refused_calls == 1:
            _LOGGER.warning(
                "%s: sends CALLs without waiting for our answers (more than %d at once, against OCPP-J's one): "
                "the excess is answered GenericError",
                self.station_id,
                MAX_CONCURRENT_CALLS,
            )
        await self._send_safely(
            dump_call_error(
                frame.message_id, RpcErrorCode.GENERIC_ERROR, f"More than {MAX_CONCURRENT_CALLS} CALLs outstanding"
            )
        )

    async def _serve(self, frame: CallFrame) -> None:
        message_id = frame.message_id
        after: list[Callable[[], None]] = []
        _AFTER_ANSWER.set(after)  # this task's context: the handler's `after_answer` calls land here
        try:
            response = await self._dispatch(frame)
            answer = dump_call_result(message_id, _dump(response))
        except OcppError as exc:
            answer = dump_call_error(message_id, exc.code, exc.description, exc.details)
        except FrameError as exc:
            _LOGGER.warning("%s: invalid frame: %s", self.station_id, exc)
            answer = exc.to_callerror()
        except Exception as exc:
            if holds_secret(frame.payload):
                # The exception's text may quote the request: say where it happened, not what it says.
                _LOGGER.error(  # noqa: TRY400 - no traceback on purpose
                    "%s: error while handling %s (%s): %s in %s (details withheld: the request holds a secret)",
                    self.station_id,
                    frame.action,
                    message_id,
                    type(exc).__name__,
                    _origin(exc),
                )
            else:
                _LOGGER.exception("%s: error while handling %s (%s)", self.station_id, frame.action, message_id)
            answer = dump_call_error(message_id, RpcErrorCode.INTERNAL_ERROR, f"Error while handling {frame.action}")
        await self._send_safely(answer)
        for callback in after:
            try:
                callback()
            except Exception:
                _LOGGER.exception("%s: error after answering %s (%s)", self.station_id, frame.action, message_id)

    async def _dispatch(self, frame: CallFrame) -> OcppModel:
        spec = self._actions.get(frame.action)
        handler = self._handlers.get(frame.action) if spec is not None else None
        if handler is None and spec is not None and self._fallback is not None:
            handler = self._fallback(spec.request)
        if spec is None or handler is None:
            if not frame.verified:
                parse_frame_strict(frame.raw)  # a broken frame is an RpcFrameworkError whatever its action
            if spec is None:
                raise OcppError(RpcErrorCode.NOT_IMPLEMENTED, f"Unknown action {frame.action}")
            raise OcppError(RpcErrorCode.NOT_SUPPORTED, f"{frame.action}Request not supported")
        request = self._validate(spec.request, frame, frame.action)
        if self.guard is not None:
            self.guard(frame.action, request)
        response = await handler(request)
        if not isinstance(response, spec.response):
            raise TypeError(
                f"handler of {frame.action} returned {type(response).__name__}, not {spec.response.__name__}"
            )
        return response

    # ---- validation, strict first, lenient on failure --------------------------------------------------

    def _validate[M: OcppModel](self, model: type[M], frame: CallFrame | CallResultFrame, action: str) -> M:
        """The payload as `model`; raises OcppError (classified per Part 4 §4.3) or FrameError."""
        try:
            return model.model_validate_json(frame.payload)
        except ValidationError as exc:
            error = exc
        if not frame.verified and _is_invalid_json(error):
            # The payload slice is no single JSON value, so the frame is broken: the full parse says how
            # (it raises FrameError; were the frame fine after all, the FormatViolation below stands).
            parse_frame_strict(frame.raw)
        if self.lenient:
            try:
                return self._validate_leniently(model, frame, action)
            except ValidationError as exc:
                error = exc
            except _NotRepairableError:
                pass
        raise OcppError(error_code_for(error), error_description(error))

    def _validate_leniently[M: OcppModel](self, model: type[M], frame: CallFrame | CallResultFrame, action: str) -> M:
        try:
            payload = orjson.loads(frame.payload)
        except orjson.JSONDecodeError:  # what pydantic reads but JSON has not, e.g. NaN
            raise _NotRepairableError from None
        repaired, violations = repair(model, payload)
        if not violations:
            raise _NotRepairableError
        result = model.model_validate_json(orjson.dumps(repaired))
        self._record(action, frame.message_id, _without_secrets(violations, repaired))
        return result

    @property
    def violations(self) -> Sequence[RecordedViolation]:
        """The latest schema violations lenient mode repaired (at most `max_violations`), oldest first."""
        return self._violations if self._violations is not None else ()

    def _record(self, action: str, message_id: str, violations: list[Violation]) -> None:
        now = datetime.now(UTC)
        self.violation_count += len(violations)
        if self._violations is None:
            self._violations = deque(maxlen=self._max_violations)
        for violation in violations:
            self._violations.append(
                RecordedViolation(now, action, message_id, violation.path, violation.kind, violation.detail)
            )
        _LOGGER.info(
            "%s: lenient mode repaired %s (%s): %s",
            self.station_id,
            action,
            message_id,
            "; ".join(f"{v.path}: {v.kind} {v.detail}" for v in violations),
        )

    # ---- our CALLs ---------------------------------------------------------------------------------------

    async def call[Resp: OcppModel](
        self,
        request: OcppModel,
        response: type[Resp],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - counts from sending, not from queueing: not asyncio.timeout
    ) -> Resp:
        """Send a CALL and return its response model; raise a CallFailed subclass when there is none.

        `response` is the response model of the request's action (checked: TypeError when it is not).
        `timeout` overrides the session's `call_timeout` for this call.
        """
        outcome = await self.call_outcome(request, response, timeout=timeout)
        if isinstance(outcome, CallFailed):
            raise outcome
        return outcome

    async def call_outcome[Resp: OcppModel](
        self,
        request: OcppModel,
        response: type[Resp],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - see `call`
    ) -> Resp | CallFailed:
        """Like `call`, but return the CallFailed instead of raising it."""
        spec = self._by_request.get(type(request))
        if spec is None:
            raise TypeError(f"{type(request).__name__} is not the request of a known action")
        if spec.response is not response:
            raise TypeError(f"{spec.name} answers {spec.response.__name__}, not {response.__name__}")
        if self._queued >= MAX_QUEUED_CALLS:
            self.refused_own_calls += 1
            if self.refused_own_calls == 1:
                _LOGGER.warning(
                    "%s: %d of our calls wait for an answer; further ones fail at once until it answers",
                    self.station_id,
                    MAX_QUEUED_CALLS,
                )
            return CallQueueFull(spec.name)
        self._queued += 1
        try:
            async with self._call_lock:  # one outstanding CALL per connection; asyncio.Lock wakes waiters FIFO
                if self._closed:
                    return SessionClosed(spec.name)
                outcome = await self._call_now(spec, request, self.call_timeout if timeout is None else timeout)
        finally:
            self._queued -= 1
        # The future holds a CallFailed or an instance of spec.response, which is `response`.
        return outcome if isinstance(outcome, CallFailed) else cast(Resp, outcome)

    async def _call_now(self, spec: ActionSpecLike, request: OcppModel, seconds: float) -> OcppModel | CallFailed:
        message_id = new_message_id()
        future: asyncio.Future[OcppModel | CallFailed] = asyncio.get_running_loop().create_future()
        payload = _dump(request)
        self._pending = _Pending(message_id, spec, future, secret_values(payload))
        try:
            try:
                await self._transmit(dump_call(message_id, spec.name, payload))
            except Exception as exc:  # noqa: BLE001 - whatever the transport raises, the call was not sent
                _LOGGER.debug("%s: sending %s failed: %r", self.station_id, spec.name, exc)
                failed = SessionClosed(spec.name, message_id)
                failed.__cause__ = exc
                return failed
            try:
                async with asyncio.timeout(seconds):
                    return await future
            except TimeoutError:
                if future.done() and not future.cancelled():  # pragma: no cover - answered at the deadline
                    return future.result()
                _LOGGER.info("%s: %s (%s) timed out after %g s", self.station_id, spec.name, message_id, seconds)
                return CallTimeout(spec.name, message_id, seconds)
        finally:
            self._pending = None
            self._recent_ids.append(message_id)

    def _take_pending(self, message_id: str) -> _Pending | None:
        """The outstanding call this response answers, or None (the response is logged and dropped)."""
        pending = self._pending
        if pending is not None and not pending.future.done() and pending.message_id == message_id:
            return pending
        if message_id in self._recent_ids:
            _LOGGER.info("%s: late or duplicate response to %s dropped", self.station_id, message_id)
        else:
            _LOGGER.warning("%s: response to unknown message id %r dropped", self.station_id, message_id)
        return None

    def _result(self, frame: CallResultFrame) -> bool:
        pending = self._take_pending(frame.message_id)
        if pending is None:
            return False
        spec = pending.spec
        if pending.secrets:
            frame = CallResultFrame(
                frame.message_id, scrub_json(frame.payload, pending.secrets), frame.raw, frame.verified
            )
        outcome: OcppModel | CallFailed
        try:
            outcome = self._validate(spec.response, frame, spec.name)
        except OcppError as exc:
            _LOGGER.warning("%s: invalid %sResponse: %s", self.station_id, spec.name, exc)
            outcome = InvalidResponse(spec.name, frame.message_id, exc.code, exc.description)
        except FrameError as exc:
            _LOGGER.warning("%s: invalid CALLRESULT frame: %s", self.station_id, exc)
            outcome = InvalidResponse(spec.name, frame.message_id, exc.code, exc.description)
        pending.future.set_result(outcome)
        return True

    def _error(self, frame: CallErrorFrame) -> bool:
        pending = self._pending
        if frame.message_id == UNREADABLE_MESSAGE_ID and pending is not None and not pending.future.done():
            # The station could not read our message id; with one CALL outstanding, it can only mean that one.
            frame_id = pending.message_id
        else:
            frame_id = frame.message_id
        found = self._take_pending(frame_id)
        if found is None:
            return False
        _LOGGER.debug("%s: %s answered CALLERROR %s", self.station_id, found.spec.name, frame.code)
        if found.secrets:
            frame = CallErrorFrame(
                frame.message_id,
                scrub_text(frame.code, found.secrets),
                scrub_text(frame.description, found.secrets),
                scrub_value(frame.details, found.secrets),
            )
        found.future.set_result(CallErrorResponse(found.spec.name, found.message_id, frame))
        return True

    async def _frame_error(self, exc: FrameError) -> None:
        _LOGGER.warning("%s: invalid message: %s", self.station_id, exc)
        if exc.respond:
            await self._send_safely(exc.to_callerror())
            return
        # A broken CALLRESULT / CALLERROR: fail the call it answers rather than let it time out.
        pending = self._pending
        if pending is not None and not pending.future.done() and pending.message_id == exc.message_id:
            pending.future.set_result(InvalidResponse(pending.spec.name, exc.message_id, exc.code, exc.description))

    async def _transmit(self, message: bytes) -> None:
        """Send one message (every message we send goes through here, and to the frames logger)."""
        if FRAMES.isEnabledFor(logging.DEBUG):
            FRAMES.debug("%s %s %s", self.station_id, SENT, redact_frame(message))
        await self._send(message)

    async def _send_safely(self, message: bytes) -> None:
        try:
            await self._transmit(message)
        except Exception as exc:  # noqa: BLE001 - a closed connection must not crash the session
            _LOGGER.debug("%s: could not send a response: %r", self.station_id, exc)

    # ---- closing -------------------------------------------------------------------------------------------

    def connection_lost(self) -> None:
        """The transport went down but the session stays (for a host that reuses it on the next connection).

        The outstanding CALL can no longer be answered: it ends with SessionClosed now rather than at its
        timeout, and the next queued CALL goes out (over whatever `send` then reaches, or fails there).
        """
        pending = self._pending
        if pending is not None and not pending.future.done():
            pending.future.set_result(SessionClosed(pending.spec.name, pending.message_id))

    async def close(self) -> None:
        """Close the session: calls outstanding or queued end with SessionClosed, handler tasks are cancelled.

        Idempotent. Messages received afterwards are dropped.
        """
        if self._closed:
            return
        self._closed = True
        self.connection_lost()
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class _NotRepairableError(Exception):
    """Lenient mode found nothing to repair."""


def _is_invalid_json(error: ValidationError) -> bool:
    return error.error_count() == 1 and error.errors(include_url=False)[0]["type"] == "json_invalid"


def _without_secrets(violations: list[Violation], repaired: Any) -> list[Violation]:
    """The violations, with the detail of those at a secret (which may quote its value) redacted."""
    secrets = [path.casefold() for path in secret_paths(repaired)]
    if not secrets:
        return violations
    return [
        replace(violation, detail=REDACTED) if _within(violation.path.casefold(), secrets) else violation
        for violation in violations
    ]


def _within(path: str, places: list[str]) -> bool:
    return any(path == place or path.startswith((f"{place}.", f"{place}[")) for place in places)


def _origin(exc: BaseException) -> str:
    """Where an exception was raised (function, file and line), read from its traceback without any file I/O."""
    traceback = exc.__traceback__
    if traceback is None:  # pragma: no cover - an exception that was raised and caught has a traceback
        return "an unknown place"
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    code = traceback.tb_frame.f_code
    return f"{code.co_qualname} ({PurePath(code.co_filename).name}:{traceback.tb_lineno})"


def _dump(model: OcppModel) -> bytes:
    """The model's payload as JSON bytes (what `to_payload()` holds), serialised by pydantic-core directly."""
    return model.to_json()
