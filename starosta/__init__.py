"""starosta: the one package the distribution installs.

Its subpackages are the repository's top-level folders (`events/`, `projections/`, `migrations/`,
`service/`), linked into this folder (`starosta/events -> ../events`, ...): a checkout, an editable
install and a wheel all hold the same tree, `starosta.events` and so on.
"""
