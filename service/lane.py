"""The expensive-read lane (issue 23, item 3): reads whose cost grows with the archive, not with
the answer's few rows, run here, on a bounded pool of their own, so that cheap reads (a claim, a
search's first page, /health) never queue behind them on the reader pool.

Which reads are expensive (the HTTP layer routes them here; everything else stays on the
reader pool, `Archive.run_read`):

* a biography `as_of` a position (the person's claims and their review history up to it), or
  with include=pending (assembled on each request, where the public one is stored);
* a page of more than CHEAP_PAGE rows (`limit` > 100 on `GET /claims`, `GET /events`, the
  entity searches and a fund's ledger);
* a place's population (`?at=` a span, and the timeline): computed on each request over every
  episode of the place (and of its subtree with include_children), no year is stored;
* a fund's ledger as CSV (every entry) or with include=pending (totals summed per request).

Three bounds, each a setting:

* `expensive_threads` (default 2): the lane's threads, so expensive reads take at most 2 of
  the 2-4 cores a small server has, whoever asks;
* `expensive_per_client` (default 2): the expensive reads one client (common.client_key: its
  address, an IPv6 /64) may have admitted (running or queued) at once; past it a read is
  refused with `ClientBusy` (429 with Retry-After). Two, so that a page and the next one, or
  two tabs, are served, while one client alone never holds more than the lane's threads;
* `expensive_queue` (default 16): the reads admitted beyond the running ones, waiting for a
  thread; past it a read is refused with `LaneFull` (503 with Retry-After: server capacity,
  not the client's fault).

Memory: a client's count is dropped when it comes back to zero, so the counter holds at most
`expensive_threads + expensive_queue` keys. Nothing here knows HTTP (the HTTP layer turns the
two errors into 429 and 503)."""

from __future__ import annotations

import threading

CHEAP_PAGE = 100  # a page of more rows than this is read in the expensive lane
RETRY_AFTER = 1  # seconds a refused expensive read is told to wait (such reads take 0.1-0.5 s)


class ClientBusy(Exception):
    """One client has as many expensive reads admitted as `expensive_per_client` allows."""

    def __init__(self, client: str, limit: int, retry_after: int = RETRY_AFTER) -> None:
        self.client, self.limit, self.retry_after = client, limit, retry_after
        super().__init__(
            f"this client already has {limit} expensive reads running or queued (the most "
            f"one client may have: STAROSTA_EXPENSIVE_PER_CLIENT={limit}; expensive reads are "
            f"as_of biographies and pages of more than {CHEAP_PAGE} rows); retry in "
            f"{retry_after} s, or ask for smaller pages")


class LaneFull(Exception):
    """Every thread of the expensive lane is busy and its queue is full."""

    def __init__(self, running: int, queued: int, retry_after: int = RETRY_AFTER) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"the server is running {running} expensive reads and has {queued} waiting, the "
            f"most it queues (STAROSTA_EXPENSIVE_THREADS, STAROSTA_EXPENSIVE_QUEUE); retry in "
            f"{retry_after} s")


class PerClient:
    """How many expensive reads each client has admitted, bounded per client and in all.

    `take(client)` admits one more read for `client`, or raises ClientBusy (its share is
    taken) or LaneFull (`capacity` reads are admitted in all); `give(client)` returns it.
    Thread-safe; a client with no read admitted holds no entry, so at most `capacity` keys
    are held."""

    def __init__(self, per_client: int, threads: int, queue: int) -> None:
        self.per_client, self.threads, self.queue = per_client, threads, queue
        self.capacity = threads + queue
        self._counts: dict[str, int] = {}
        self._admitted = 0
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        with self._lock:
            held = self._counts.get(client, 0)
            if held >= self.per_client:
                raise ClientBusy(client, self.per_client)
            if self._admitted >= self.capacity:
                raise LaneFull(min(self._admitted, self.threads),
                               max(0, self._admitted - self.threads))
            self._counts[client] = held + 1
            self._admitted += 1

    def give(self, client: str) -> None:
        with self._lock:
            held = self._counts.get(client, 0)
            if held <= 0:
                return
            self._admitted -= 1
            if held == 1:
                del self._counts[client]
            else:
                self._counts[client] = held - 1

    def held(self, client: str) -> int:
        """Return how many reads `client` has admitted now."""
        with self._lock:
            return self._counts.get(client, 0)

    @property
    def admitted(self) -> int:
        """Return how many reads are admitted now (running or queued), all clients together."""
        with self._lock:
            return self._admitted

    def __len__(self) -> int:
        """The number of clients with a read admitted (the keys held)."""
        with self._lock:
            return len(self._counts)


def is_expensive_page(limit: int) -> bool:
    """Return True when a page of `limit` rows is read in the expensive lane."""
    return limit > CHEAP_PAGE
