"""What a database's name says: which backend it is (`is_postgres_url`, the one test of a URL's
scheme), the owner's URL on PostgreSQL, and the URL as a message or a log may show it (its
secrets as ***). The only module that looks at a URL's scheme; `backend_for` uses it once.
"""

from __future__ import annotations

import os
import re

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(db: str) -> bool:
    """Return whether `db` names a PostgreSQL database (a postgresql:// or postgres:// URL);
    anything else is a SQLite file's path."""
    return db.strip().lower().startswith(POSTGRES_SCHEMES)


def owner_url(db: str) -> str:
    """Return the owner's URL for the PostgreSQL database `db`: STAROSTA_OWNER_DB, or `db`."""
    return os.environ.get("STAROSTA_OWNER_DB") or db


# The libpq parameters whose values a URL shows: none is a secret or where one is kept. Every
# other parameter's value is *** (password, sslpassword, passfile, sslkey, and a misspelt
# "pasword" as well)
SHOWN_PARAMETERS = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "options", "application_name",
    "fallback_application_name", "connect_timeout", "client_encoding", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "replication", "gssencmode", "sslmode", "sslnegotiation", "sslcompression", "sslrootcert",
    "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service",
    "target_session_attrs", "load_balance_hosts", "channel_binding", "require_auth"})
_URL_IN_TEXT = re.compile(r"postgres(?:ql)?://[^\s\"'<>]*", re.IGNORECASE)
# libpq's key=value form ("host=h password=s"), quoted or not, and the same in a query string
_SECRET_SETTING = re.compile(r"\b([A-Za-z_]*(?:pass|secret|token|key)[A-Za-z_]*)(\s*=\s*)"
                             r"('(?:[^'\\]|\\.)*'|[^\s'\"&]+)", re.IGNORECASE)
REDACTED = "***"


def shown(db: str) -> str:
    """Return `db` fit for a message or a log: a PostgreSQL URL's password (userinfo) and the
    value of every query parameter but those known to hold no secret (SHOWN_PARAMETERS:
    password, sslpassword, passfile, sslkey and the rest) as ***. A SQLite path comes back as it is. Never raises, however malformed the URL: the one
    function every URL a person or a log sees goes through."""
    if not is_postgres_url(db):
        return db
    scheme, _, rest = db.partition("://")
    at = _userinfo_end(rest)
    if at >= 0:
        user, colon, _password = rest[:at].partition(":")
        rest = f"{user}{colon}{REDACTED if colon else ''}@{rest[at + 1:]}"
    path, question, query = rest.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            name, equals, _value = pair.partition("=")
            pairs.append(pair if not equals or name.lower() in SHOWN_PARAMETERS
                         else f"{name}={REDACTED}")
        rest = f"{path}?{'&'.join(pairs)}{hash_}{fragment}"
    return f"{scheme}://{rest}"


def _userinfo_end(rest: str) -> int:
    """Return the index of the "@" that ends a URL's userinfo (`rest` is what follows "://"),
    or -1: the last "@" of the URL. libpq ends it at the first "@" before a "/", but a
    password may hold a raw "@", "/" or "?" (libpq then misreads it, and the message quotes
    it): hiding up to the last "@" hides such a password whole, at the price of hiding a
    host when a query value holds an "@"."""
    return rest.rfind("@")


def _secrets_of(url: str) -> set[str]:
    """Return the secret strings of a PostgreSQL URL (its password, the values of its query
    parameters outside SHOWN_PARAMETERS), as written and percent-decoded."""
    if not is_postgres_url(url):
        return set()
    from urllib.parse import unquote

    rest = url.partition("://")[2]
    at = _userinfo_end(rest)
    found = {rest[:at].partition(":")[2]} if at >= 0 else set()
    for pair in rest.partition("?")[2].partition("#")[0].split("&"):
        name, equals, value = pair.partition("=")
        if equals and name.lower() not in SHOWN_PARAMETERS:
            found.add(value)
    return {s for secret in found for s in (secret, unquote(secret)) if s}


def scrubbed(text: str, *urls: str) -> str:
    """Return `text` (an error message, a log line) with every PostgreSQL URL in it shown as
    `shown` shows it, every libpq setting naming a secret (password=..., sslpassword=...)
    as ***, and every secret of `urls` (the URLs the text may quote: psycopg quotes a
    malformed one's parts) replaced wherever it appears."""
    for url in urls:
        for secret in sorted(_secrets_of(url), key=len, reverse=True):
            text = text.replace(secret, REDACTED)
    text = _URL_IN_TEXT.sub(lambda m: shown(m.group()), text)
    return _SECRET_SETTING.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
