"""The ceiling for HTTP benchmarks: a bare Litestar JSON endpoint, served like the real app."""

from litestar import Litestar, get


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


def app() -> Litestar:
    return Litestar([health])
