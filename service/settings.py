"""Configuration: one frozen settings struct, read from the environment, with laptop defaults."""

from __future__ import annotations

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

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from STAROSTA_* variables, then explicit overrides (CLI flags).

        Raises ValueError naming the variable when a value has the wrong type.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, field_type in cls.__annotations__.items():
            raw = env.get(f"STAROSTA_{name.upper()}")
            if raw is None:
                continue
            if field_type == "int":
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"STAROSTA_{name.upper()}={raw!r} is not an integer") from None
            else:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(
                f"STAROSTA_SYNCHRONOUS={settings.synchronous!r}: use FULL (durable), NORMAL, EXTRA or OFF")
        proxy_list(settings.trusted_proxies)  # raises naming the variable
        return settings


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
