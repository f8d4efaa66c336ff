"""Configuration: one frozen settings struct, read from the environment, with laptop defaults."""

from __future__ import annotations

import math
import os

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting of the service; each has an environment variable STAROSTA_<NAME>."""

    db: str = "./var/starosta.db"
    host: str = "127.0.0.1"
    port: int = 8000
    synchronous: str = "FULL"  # SQLite's synchronous pragma: FULL = an append that returned is on disk
    max_body_bytes: int = 1_048_576  # request bodies over this answer 413
    group_commit_max: int = 512  # most appends committed in one transaction
    reader_threads: int = 4  # reads run in these threads, each on its own connection, off the event loop
    max_streams: int = 32  # open live feeds (GET /events/stream) at once; past it 503 with Retry-After
    # PostgreSQL only: a streaming replica of `db` that GETs read from (writes, Idempotency-Key
    # replays and tokens stay on `db`); empty: read from `db`
    read_db: str = ""
    min_position_wait: float = 2.0  # seconds a GET with min_position waits for it, then 503
    # The reverse proxies whose X-Forwarded-For names the client (comma-separated addresses
    # or CIDR networks; deploy/starosta.service sets 127.0.0.1,::1 for its nginx). Empty: the
    # client is the connection's peer, and X-Forwarded-For is ignored.
    trusted_proxies: str = ""
    # i23-lane: the expensive-read lane (service/lane.py: as_of biographies, pages of more
    # than 100 rows): its threads, the reads one client may have running or queued there
    # (past it 429 with Retry-After), and the reads queued beyond the running ones (past it 503)
    expensive_threads: int = 2
    expensive_per_client: int = 2
    expensive_queue: int = 16
    # -- i23-limits: per-client limits (service/limits.py); past one, 429 with Retry-After --
    max_streams_per_client: int = 4  # live feeds one client address (IPv6: its /64) holds at once
    max_streams_per_token: int = 4  # live feeds one token holds at once, from any address
    anonymous_stream_timeout: int = 60  # an anonymous feed's timeout is cut to this (s); a token's: 300
    auth_failures_max: int = 20  # failed authentications from one client in auth_failure_window ...
    auth_failure_window: float = 60.0  # ... seconds; past them a failure answers 429, a valid token 200
    # seconds a per-client refusal (429) waits before it is answered: a flood that ignores
    # Retry-After sends at most one request per connection per delay (common.refused_later)
    refusal_delay: float = 0.5

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from STAROSTA_* variables, then explicit overrides (CLI flags).

        Every variable is parsed to its setting's type and checked against its bounds
        (`env_value`); raises ValueError, one line naming the variable and its value, when a
        value does not fit.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.__struct_fields__:
            variable = f"STAROSTA_{name.upper()}"
            raw = env.get(variable)
            if raw is not None:
                values[name] = env_value(variable, raw, cls.__annotations__[name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(
                f"STAROSTA_SYNCHRONOUS={settings.synchronous!r}: use FULL (durable), NORMAL, EXTRA or OFF")
        proxy_list(settings.trusted_proxies)  # raises naming the variable
        return settings


# The bounds of each number a variable sets (lowest, highest; None: no bound)
BOUNDS: dict[str, tuple[float, float | None]] = {
    "STAROSTA_PORT": (1, 65535),
    "STAROSTA_MAX_BODY_BYTES": (1, None),
    "STAROSTA_GROUP_COMMIT_MAX": (1, None),
    "STAROSTA_READER_THREADS": (1, 1024),
    "STAROSTA_MAX_STREAMS": (0, None),
    "STAROSTA_MIN_POSITION_WAIT": (0, 3600),
    # i23-lane
    "STAROSTA_EXPENSIVE_THREADS": (1, 256),
    "STAROSTA_EXPENSIVE_PER_CLIENT": (1, 1024),
    "STAROSTA_EXPENSIVE_QUEUE": (0, 100_000),
    # i23-limits
    "STAROSTA_MAX_STREAMS_PER_CLIENT": (0, None),
    "STAROSTA_MAX_STREAMS_PER_TOKEN": (0, None),
    "STAROSTA_ANONYMOUS_STREAM_TIMEOUT": (1, 300),
    "STAROSTA_AUTH_FAILURES_MAX": (1, None),
    "STAROSTA_AUTH_FAILURE_WINDOW": (1, 86400),
    "STAROSTA_REFUSAL_DELAY": (0, 10),
}


def env_value(variable: str, raw: str, field_type: object) -> object:
    """Return the value of the environment variable `variable` (text `raw`) as its setting's
    type (`field_type`, the annotation: a string under postponed annotations): a whole number,
    a number of seconds, or text as given. Raises ValueError naming the variable, its value
    and what it must be."""
    kind = getattr(field_type, "__name__", field_type)
    if kind == "str":
        return raw
    low, high = BOUNDS.get(variable, (0, None))
    within = f"from {low:g}" + (f" to {high:g}" if high is not None else " up")
    value: float
    if kind == "int":
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"{variable}={raw!r} is not an integer: give a whole number "
                             f"{within}") from None
    elif kind == "float":
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"{variable}={raw!r} is not a number of seconds: give a number "
                             f"{within} (e.g. 2 or 0.5)") from None
    else:  # a setting of a new type must say here how its variable is read
        raise TypeError(f"{variable}: no parser for settings of type {kind}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{variable}={raw!r} is out of range: give a number {within}")
    return value


def proxy_list(value: str) -> list[str]:
    """Return STAROSTA_TRUSTED_PROXIES as a list of addresses and CIDR networks (empty for
    an empty value). Raises ValueError naming the variable and the item that is neither
    (a host name, "*": trusting every peer would let any client name itself)."""
    import ipaddress

    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"STAROSTA_TRUSTED_PROXIES={value!r}: {item!r} is not an IP "
                             "address or a CIDR network (e.g. 127.0.0.1,::1 or 10.0.0.0/8)") from None
    return items
