"""The domain: the rules commands are checked against, who may do what, and the
replies commands give. Nothing here knows HTTP, the CLI or a database driver."""
