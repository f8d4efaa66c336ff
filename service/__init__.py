"""How the world talks to us: the Litestar app, its controllers and guards, and the CLI."""
