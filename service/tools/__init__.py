"""Batch tools over the archive: the synthetic archive, the public snapshot, bulk
submission, export and import, and the demo archive."""
