"""How long ended sessions are kept: the prune policy's defaults, defined once.

`EventStore.prune` removes ended sessions older than a maximum age or beyond the newest
maximum count; these are the defaults the configuration's `[sessions]` table, the CLI and the
TUI start from (SPEC §5).
"""

from __future__ import annotations

DEFAULT_MAX_AGE_DAYS = 14
DEFAULT_MAX_AGE_S = DEFAULT_MAX_AGE_DAYS * 86400.0
DEFAULT_MAX_COUNT = 500
