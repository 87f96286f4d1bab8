"""Honest facts: binary formats from magic bytes, counts of a truncated file, odd names."""

from __future__ import annotations

import random

import pytest

from contextree.engine.providers.base import GenerationRequest
from contextree.engine.providers.local.binary import detect_format
from contextree.engine.providers.local.provider import describe


def request(path: str, text: str | None, *, head: bytes = b"", truncated: bool = False,
            size: int = 100) -> GenerationRequest:
    return GenerationRequest(
        path=path, node_type="file", system_prompt="", user_prompt="", file_text=text,
        file_size=size, is_binary=text is None, truncated=truncated, binary_head=head,
    )


ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00" + b"\x00" * 30
TAR_HEAD = b"name.txt".ljust(257, b"\x00") + b"ustar\x0000"


@pytest.mark.parametrize(
    ("head", "path", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "logo.bin", "PNG image"),
        (b"%PDF-1.7\n", "report", "PDF document"),
        (ELF_EXECUTABLE, "tool", "ELF executable"),
        (b"PK\x03\x04\x14\x00", "pkg-1.0-py3-none-any.whl", "Python wheel (ZIP)"),
        (b"PK\x03\x04\x14\x00", "data.zip", "ZIP archive"),
        (TAR_HEAD, "backup.dat", "tar archive"),
        (b"\xa7\x0d\x0d\x0a" + b"\x00" * 12, "mod.cpython-311.pyc", "Python bytecode"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x34", "Main.class", "Java class file"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "photo", "WebP image"),
        (b"SQLite format 3\x00", "app.db", "SQLite database"),
    ],
)
def test_binary_formats_are_told_by_their_first_bytes(head: bytes, path: str, kind: str) -> None:
    assert detect_format(head, path) == kind


def test_random_bytes_named_bin_are_not_called_an_executable() -> None:
    head = random.Random(5).randbytes(512)

    frame = describe(request("blob.bin", None, head=head, size=3000))

    assert frame.splitlines()[2] == "Binary data of 2.9 KiB in no recognised format."
    assert "Binary file: executable" not in frame


def test_a_png_named_txt_is_still_a_png() -> None:
    frame = describe(request("notes.txt", None, head=b"\x89PNG\r\n\x1a\n\x00", size=2048))

    assert frame.splitlines()[2] == "Binary file: PNG image, 2.0 KiB."
    assert "first bytes" in frame


def test_counts_of_a_truncated_file_say_they_cover_the_part_read() -> None:
    text = "one two three\n" * 100

    frame = describe(request("app.log", text, truncated=True, size=20 * 1024 * 1024))

    assert "300 words in the part read" in frame
    assert "Only the first 1.4 KiB of 20.0 MiB was read" in frame


def test_a_whole_file_has_plain_counts() -> None:
    frame = describe(request("notes.txt", "one two three\n", size=14))

    assert "· 3 words" in frame and "part read" not in frame


def test_a_path_with_a_newline_or_bad_bytes_keeps_the_heading_on_one_line() -> None:
    frame = describe(request("docs/new\nline\udcff.txt", "Hello there.\n"))

    assert frame.splitlines()[0] == "# `docs/new\\nline\\xff.txt`"
    assert frame.splitlines()[2] == "Hello there."
    frame.encode("utf-8")
