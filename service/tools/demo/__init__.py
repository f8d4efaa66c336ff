"""The demo archive: entered from the two seed texts as replayable commands, loaded through
the real API (every command validated exactly as a contributor's would be)."""
