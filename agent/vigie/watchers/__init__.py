"""Event sources that run in their own threads and only put events on the engine's queue."""
