"""Telling what a binary file holds from its first bytes (its magic number), not its name.

`detect_format` checks the signatures of common images, documents, archives, executables,
bytecode, media, fonts and data files; a ZIP container is refined by its name (a wheel, a JAR,
an Office document are all ZIP). Random bytes match nothing and are called so.
"""

from __future__ import annotations

from contextree.engine.providers.local.languages import extension_of

MAGIC_BYTES_NEEDED = 512
_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x00\x00\x01\x00", "ICO icon"),
    (b"%PDF-", "PDF document"),
    (b"%!PS", "PostScript document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Microsoft Office document (OLE2)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "Zstandard-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF"),
    (b"MZ", "Windows executable or DLL (PE)"),
    (b"\xfe\xed\xfa\xce", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\x00asm", "WebAssembly module"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x89HDF\r\n\x1a\n", "HDF5 data file"),
    (b"\x93NUMPY", "NumPy array file"),
    (b"PAR1", "Parquet data file"),
    (b"ARROW1", "Arrow data file"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
    (b"OTTO", "OpenType font"),
    (b"\x00\x01\x00\x00\x00", "TrueType font"),
    (b"ID3", "MP3 audio"),
    (b"\xff\xfb", "MP3 audio"),
    (b"fLaC", "FLAC audio"),
    (b"OggS", "Ogg media"),
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM video"),
    (b"PACK", "Git pack file"),
    (b"\x80\x04\x95", "Python pickle"),
    (b"\x80\x05\x95", "Python pickle"),
)
_RIFF_KINDS = {b"WEBP": "WebP image", b"WAVE": "WAV audio", b"AVI ": "AVI video"}
_FTYP_KINDS = {b"heic": "HEIC image", b"avif": "AVIF image", b"qt  ": "QuickTime video",
               b"M4A ": "M4A audio"}
_ZIP_KINDS = {"whl": "Python wheel (ZIP)", "jar": "Java archive (ZIP)",
              "war": "Java web archive (ZIP)", "docx": "Word document (ZIP)",
              "xlsx": "Excel workbook (ZIP)", "pptx": "PowerPoint presentation (ZIP)",
              "odt": "OpenDocument text (ZIP)", "ods": "OpenDocument spreadsheet (ZIP)",
              "apk": "Android package (ZIP)", "epub": "EPUB book (ZIP)",
              "egg": "Python egg (ZIP)"}
_ELF_TYPES = {1: "relocatable object", 2: "executable", 3: "shared object or PIE executable",
              4: "core dump"}


def detect_format(head: bytes, path: str) -> str | None:
    """What the bytes `head` (the file's start) say the file is; None when nothing matches."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _ZIP_KINDS.get(extension_of(path), "ZIP archive")
    if head.startswith(b"\xca\xfe\xba\xbe"):
        return _cafebabe(head)
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[head[8:12]]
    if head[4:8] == b"ftyp":
        return _FTYP_KINDS.get(head[8:12], "MP4/ISO media")
    if head[257:262] == b"ustar":
        return "tar archive"
    if len(head) >= 4 and head[2:4] == b"\r\n" and head[:2] != b"\r\n" and _pyc_like(head):
        return "Python bytecode"
    for prefix, kind in _PREFIXES:
        if head.startswith(prefix):
            return _elf(head) if kind == "ELF" else kind
    return None


def _cafebabe(head: bytes) -> str:
    """Java class files and Mach-O universal binaries share a magic number."""
    second_word = int.from_bytes(head[4:8], "big")
    return "Java class file" if second_word >= 45 else "Mach-O universal binary"


def _elf(head: bytes) -> str:
    if len(head) < 18:
        return "ELF binary"
    little = head[5] == 1
    kind = int.from_bytes(head[16:18], "little" if little else "big")
    return f"ELF {_ELF_TYPES.get(kind, 'binary')}"


def _pyc_like(head: bytes) -> bool:
    """CPython's magic: a 16-bit little-endian number (3000–3999 for Python 3, 20121 and up
    for Python 2) then `\\r\\n`."""
    number = int.from_bytes(head[:2], "little")
    return (3000 <= number < 4000 or number >= 20121) and len(head) >= 16
