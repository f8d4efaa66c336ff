"""What happened: event structs, the envelope, upcasters and the append-only event store."""
