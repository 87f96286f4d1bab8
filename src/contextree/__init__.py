"""contextree: AI-generated context for a codebase, every command a durable, replayable session."""

__version__ = "0.1.0"
