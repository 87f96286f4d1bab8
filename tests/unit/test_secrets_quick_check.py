"""`scrub_text` skips its patterns only when none can match: the quick check must never let a
credential through that the full scrub would redact (mixed case, `ı` and `ſ` included)."""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from contextree import secrets
from contextree.secrets import REDACTED, scrub_text

PIECES = ["bearer ", "BeArEr\t", "Basic ", "basıc ", "baſic ", "api_key=", "X-API-KEY: ",
          "apı-key=", "https://", "user:pw@", "@", "abcdefgh12345678", "tok-123", " ", "/",
          "'", "ı", "ſ", "é"]
TEXTS = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=TEXTS)
def test_the_quick_check_never_skips_what_the_patterns_redact(text: str) -> None:
    with mock.patch.object(secrets, "_may_hold_credentials", return_value=True):
        full = scrub_text(text)
    assert scrub_text(text) == full


def test_plain_paths_are_returned_as_they_are_and_credentials_are_not() -> None:
    path = "pkg0/pkg1/module_7.py"
    assert scrub_text(path) is path
    assert REDACTED in scrub_text("https://user:pw@example.com/x")
    assert REDACTED in scrub_text("Authorization: BASIC dXNlcjpwYXNzd29yZA==")
    assert REDACTED in scrub_text("baſic dXNlcjpwYXNzd29yZA==")
