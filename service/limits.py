"""Per-client limits, below HTTP (issue 23): counters in memory, per serving process, each
bounded in size. They return values (a release function or None, seconds to wait); the HTTP
layer turns a refusal into 429 with Retry-After (service/api/common.py, service/api/log.py).

- `Shares`: how many live feeds each key (a client address, a token) holds at once, at most
  `share` each. Keys are dropped when their count falls to 0, so it tracks at most as many
  keys as feeds are open (bounded by STAROSTA_MAX_STREAMS).
- `FailureWindow`: failed authentications per client in a sliding window: past `limit` in
  `window` seconds, `failed` returns the seconds until the window lets one more through.
  At most `limit` times per key and `max_keys` keys (the oldest-touched dropped first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

# The clients whose failed authentications are remembered at once: past it the client that
# failed longest ago is forgotten (it gets its full budget back: a forgotten client is only
# allowed more failures, never refused a valid token). 10,000 clients x 20 times: a few MB.
FAILURE_KEYS_MAX = 10_000


class Shares:
    """At most `share` holders per key at once (a live feed per client address, per token).

    `take(key)` returns a release function, or None when the key holds its whole share;
    releasing twice is harmless. A `share` of 0 refuses every key."""

    def __init__(self, share: int) -> None:
        self.share = share
        self.held: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> Callable[[], None] | None:
        with self._lock:
            count = self.held.get(key, 0)
            if count >= self.share:
                return None
            self.held[key] = count + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                left = self.held.get(key, 0) - 1
                if left > 0:
                    self.held[key] = left
                else:
                    self.held.pop(key, None)  # no key is kept for a client holding nothing
        return release


class FailureWindow:
    """Failures per key in a sliding window of `window` seconds, at most `limit` counted.

    `failed(key)` records one failure and returns 0.0 while the key has had at most `limit`
    failures in the last `window` seconds; past that it records nothing (a refused failure is
    not counted: the key gets one more each time its oldest failure leaves the window) and
    returns the seconds until the window lets one more through (> 0). At most `max_keys`
    keys are tracked: a new key past them drops the key that failed longest ago."""

    def __init__(self, limit: int, window: float, max_keys: int = FAILURE_KEYS_MAX,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._times: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._times)

    def failed(self, key: str) -> float:
        with self._lock:
            now = self.clock()
            times = self._times.get(key)
            if times is None:
                times = self._times[key] = deque()
                while len(self._times) > self.max_keys:
                    self._times.popitem(last=False)
            else:
                self._times.move_to_end(key)
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                return max(times[0] + self.window - now, 1e-3) if times else self.window
            times.append(now)
            return 0.0
