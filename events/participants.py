"""Participants in roles (the Factoid model): the seeded role vocabulary, and the one mapping of
the legacy fields onto participants.

Every claim takes `participants`: registered persons or organisations, each in a role of the
vocabulary "participant roles" (the roles seeded here, plus those admins add at run time with
`participant_role.added`). Three older fields say the same thing in a fixed slot, and the API
keeps accepting them: the grouped kinds' `with` (role companion), a disbursement's or aid in
kind's `via` with its `via_said` (role correspondent), and a disbursement's, aid in kind's or
letter's `recipient` with a letter's `recipient_said` (role recipient). `normalised` moves them
into `participants` at submission, so that a claim submitted since stores participants only;
`upcast_submitted` does the same to a stored `claim.submitted` of schema version 1 when it is
read (the log is never rewritten). Readers read participants by role (`refs_in_role`), never
the legacy fields. A citation's `via` chain and a relation's `other` are not participants.
"""

from __future__ import annotations

from typing import Any

import msgspec

from starosta.events.kinds import (
    AnyClaim,
    Claim,
    DisbursementClaim,
    InKindClaim,
    LetterClaim,
    Participant,
)

# The roles every archive has, in this order (key -> (label, description))
SEEDED: dict[str, tuple[str, str]] = {
    "companion": ("companion", "in the same event as the claim's person or group: arrested, "
                  "held, moved or released with them (the legacy field `with`)"),
    "witness": ("witness", "saw or attests what the claim says"),
    "informant": ("informant", "relates what the claim says to the source's author "
                  "(\"Lazarevitch relates\")"),
    "author": ("author", "wrote the document or letter the claim is about"),
    "recipient": ("recipient", "received the letter, money or aid (the legacy field `recipient`)"),
    "correspondent": ("correspondent", "the intermediary aid went through (the legacy field `via`)"),
    "judge": ("judge", "judged or sentenced"),
    "interrogator": ("interrogator", "interrogated"),
    "co_accused": ("co-accused", "accused in the same case"),
    "encountered": ("encountered", "met or ran into during what the claim says (\"he ran into "
                    "Molina and Blasco Cobo\")"),
    "other": ("other", "another part, said in the participant's `said` or the claim's note"),
}

COMPANION, RECIPIENT, CORRESPONDENT = "companion", "recipient", "correspondent"
# roles whose participants must be persons (populations count companions as persons held)
PERSONS_ONLY = frozenset({COMPANION})
KINDS_WITH_LEGACY = ("disbursement", "in_kind", "letter")  # besides the grouped kinds' `with`


def legacy(claim: Claim) -> list[tuple[str, Participant]]:
    """Return (wire field, participant) for each legacy field the claim fills: its companions
    (`with`), its recipient and its correspondent (`via`), in that order."""
    out = [("with", Participant(ref=ref, role=COMPANION)) for ref in getattr(claim, "with_", ())]
    if isinstance(claim, (DisbursementClaim, InKindClaim, LetterClaim)) and claim.recipient:
        said = claim.recipient_said if isinstance(claim, LetterClaim) and claim.recipient_said else None
        out.append(("recipient", Participant(ref=claim.recipient, role=RECIPIENT, said=said)))
    if isinstance(claim, (DisbursementClaim, InKindClaim)) and claim.via:
        out.append(("via", Participant(ref=claim.via, role=CORRESPONDENT, said=claim.via_said)))
    return out


def named(claim: Claim) -> list[tuple[str, Participant]]:
    """Return (wire field, participant) for every participant a claim names as sent: its
    `participants` (`participants[i]`), then those of its legacy fields (`legacy`)."""
    return [(f"participants[{i}]", p) for i, p in enumerate(claim.participants)] + legacy(claim)


def normalised(claim: AnyClaim) -> AnyClaim:
    """Return the claim with its legacy fields moved into `participants` (after the ones it
    names there): `with` emptied, `recipient` and `via` left out, with the `recipient_said`
    and `via_said` that went into a participant's `said` (a `said` with no id stays)."""
    moved = legacy(claim)
    if not moved:
        return claim
    changes: dict[str, Any] = {"participants": claim.participants + tuple(p for _, p in moved)}
    if getattr(claim, "with_", ()):
        changes["with_"] = ()
    if isinstance(claim, (DisbursementClaim, InKindClaim, LetterClaim)) and claim.recipient:
        changes["recipient"] = None
        if isinstance(claim, LetterClaim) and claim.recipient_said:
            changes["recipient_said"] = None
    if isinstance(claim, (DisbursementClaim, InKindClaim)) and claim.via:
        changes["via"] = None
        changes["via_said"] = None
    return msgspec.structs.replace(claim, **changes)


def upcast_submitted(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn a stored `claim.submitted` of schema version 1 into version 2: the claim's legacy
    fields become participants (`normalised`); nothing else changes."""
    claim = msgspec.convert(raw["claim"], AnyClaim)
    return {**raw, "claim": msgspec.to_builtins(normalised(claim))}


def refs_in_role(claim: Claim | dict[str, Any], role: str) -> list[str]:
    """Return the ids of the claim's participants in `role`, in order (a claim as a struct,
    or as stored JSON)."""
    if isinstance(claim, dict):
        return [p["ref"] for p in claim.get("participants", ()) if p.get("role") == role]
    return [p.ref for p in claim.participants if p.role == role]


def first_in_role(claim: Claim | dict[str, Any], role: str) -> str | None:
    """Return the first participant in `role` (a disbursement's recipient), or None."""
    refs = refs_in_role(claim, role)
    return refs[0] if refs else None
