"""Pure rules of the engine: no HTTP, no SQL."""
