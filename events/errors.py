"""Domain errors: what the rules refuse, with no HTTP in them. The service maps each class to
a problem+json answer once (service/api/errors.py); the CLI prints its message on one line."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base: `detail` says what is wrong and what to do; `errors` names fields and values."""

    title = "Refused"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail, self.errors = detail, errors


class Invalid(DomainError):
    """A value breaks a rule: names the field, where it came from (body, query, header, path)
    and the value."""

    title = "Invalid request"

    def __init__(self, field: str, value: Any, message: str, where: str = "body",
                 detail: str | None = None) -> None:
        shown = repr(value) if not isinstance(value, str) else repr(value[:200])
        super().__init__(detail or f"{field}={shown}: {message}",
                         [{"field": field, "in": where, "value": value, "message": message}])
        self.field, self.value = field, value


class NotFound(DomainError):
    """An id that names nothing the caller may see."""

    title = "Not found"

    def __init__(self, field: str, value: str, what: str, where: str = "path",
                 detail: str | None = None) -> None:
        super().__init__(detail or f"{field}={value!r}: no {what} with that id",
                         [{"field": field, "in": where, "value": value, "message": f"unknown {what}"}])


class Unauthenticated(DomainError):
    """The action needs a token, and none (or no valid one) was given."""

    title = "Unauthorized"


class Forbidden(DomainError):
    """The caller's role or relation to the record does not allow the action."""

    title = "Forbidden"


class Conflict(DomainError):
    """The action does not fit the record's current state (stale version, wrong status)."""

    title = "Conflict"


class PreconditionRequired(DomainError):
    """The action changes a record only against the version the caller saw (If-Match), and
    none was named."""

    title = "Precondition required"


class PossibleDuplicate(Conflict):
    """A new record whose name looks like an existing record's label or name (same TR39
    skeleton): `candidates` lists them as {"id", "label", "matched"}. The request may go on
    only by saying, in `not_same_as`, that each candidate is another record."""

    title = "Possible duplicate"
    problem_type = "/problems/possible-duplicate"

    def __init__(self, detail: str, candidates: list[dict[str, str]]) -> None:
        super().__init__(detail, [{"field": "not_same_as", "in": "body",
                                   "value": [c["id"] for c in candidates],
                                   "message": "name each candidate here if it is another record"}])
        self.candidates = candidates
