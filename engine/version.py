"""The engine version recorded in provenance."""
ENGINE_VERSION = "0.1.0"
