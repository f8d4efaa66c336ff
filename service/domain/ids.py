"""Ids: a kind prefix and 8 Crockford base32 characters (40 random bits): 'P-4G7K2M9Q'."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES = {"source": "S", "person": "P", "place": "PL", "organization": "O", "fund": "F",
            "claim": "C", "account": "A", "property": "PR"}
ACCOUNT_ID = r"^A-[0-9A-HJKMNP-TV-Z]{8}$"  # an account's id (the pattern of new_id("account"))


def new_id(kind: str) -> str:
    """Return a fresh id for an entity or claim of `kind`.

    A collision (one in a trillion per pair) is caught by the store: a new stream is
    appended with expected version 0, so a clash answers 409, never overwrites.
    """
    bits = int.from_bytes(secrets.token_bytes(5), "big")  # one draw, not one per character
    return f"{PREFIXES[kind]}-" + "".join(_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
