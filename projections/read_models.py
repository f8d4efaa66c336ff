"""The read models the service keeps current, in apply order (a read model comes after those
it `reads`): the one list of them. Adding a read model: a module in projections/ whose class
subclasses runner.Projection, and its class here."""

from __future__ import annotations

from starosta.projections.biographies import BiographiesProjection
from starosta.projections.claims import ClaimsProjection
from starosta.projections.ledger import LedgerProjection
from starosta.projections.population import PopulationProjection
from starosta.projections.registry import RegistryProjection
from starosta.projections.runner import Projection, Runner
from starosta.projections.search import SearchProjection

READ_MODELS: tuple[type[Projection], ...] = (
    RegistryProjection, SearchProjection, ClaimsProjection, PopulationProjection,
    LedgerProjection, BiographiesProjection)


def default_runner() -> Runner:
    """Return a runner of every read model the service keeps current, in apply order (fresh
    instances: a read model may hold work pending between its events and `finish`)."""
    return Runner([model() for model in READ_MODELS])
