"""The service's health, known without a request reading the database: a background thread
asks the database for the log's head every `every` seconds, on a connection of its own, and
GET /health answers what it last learnt. An answer older than `stale_after` seconds (the
database hangs or fails, the thread is stuck) is no answer: /health then says 503.

The ping has its own thread so that a saturated reader pool (every reader busy on slow reads)
does not make a healthy database look dead, while a database that stops answering does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import msgspec

PING_SECONDS = 1.0  # how often the background ping asks the database for the head
STALE_SECONDS = 5.0  # a ping answer older than this: /health answers 503


class Pulse(msgspec.Struct, frozen=True):
    """What /health answers: whether the database answered recently (`fresh`), the head it
    last gave (None before any answer), how many seconds ago, and the last ping's error (the
    exception's type only)."""

    fresh: bool
    head: int | None
    age: float | None
    error: str | None = None


class HeadPing:
    """Asks `head()` (the log's last position, on the calling thread's own connection) every
    `every` seconds in a daemon thread; `pulse()` says what it last learnt."""

    def __init__(self, head: Callable[[], int], every: float = PING_SECONDS,
                 stale_after: float = STALE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._head, self.every, self.stale_after, self._clock = head, every, stale_after, clock
        self._lock = threading.Lock()
        self._last: tuple[int, float] | None = None  # (head, when it answered)
        self._error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def ping(self) -> None:
        """Ask the database once (on this thread) and remember its answer or its error."""
        try:
            head = self._head()
        except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", never a crash
            with self._lock:
                self._error = type(exc).__name__  # never its text: /health is public, and a
                # driver's message may quote a connection string
            return
        with self._lock:
            self._last, self._error = (head, self._clock()), None

    def saw(self, head: int) -> None:
        """Remember that the database answered now with at least `head` (the writer's commit
        of that position: the freshest proof there is), so /health's head keeps up with this
        server's own writes between pings."""
        with self._lock:
            known = self._last[0] if self._last is not None else 0
            self._last, self._error = (max(head, known), self._clock()), None

    def start(self) -> None:
        """Ping once now (so the first /health has an answer), then every `every` seconds in
        a thread of its own until `close`."""
        self.ping()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="starosta-health", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.ping()

    def pulse(self) -> Pulse:
        """Return what /health answers now: fresh when the last answer is at most
        `stale_after` seconds old."""
        with self._lock:
            last, error = self._last, self._error
        if last is None:
            return Pulse(False, None, None, error)
        age = self._clock() - last[1]
        return Pulse(age <= self.stale_after, last[0], age, error)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (it finishes its current ping first; a ping stuck on a database
        that does not answer is left behind after `timeout` seconds: the thread is a daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
