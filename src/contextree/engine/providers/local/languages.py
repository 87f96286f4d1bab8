"""What a file is, from its name: language, family, comment syntax, binary kind.

A `Language` says how to read a text file (its family picks the summarizer and the definition
patterns); `binary_kind` names what a binary file probably holds. Both are pure lookups, so
the same name always gets the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Language:
    """A language name, the family that reads it and its comment markers."""

    name: str
    family: str
    line_comments: tuple[str, ...] = ()
    block_comment: tuple[str, str] | None = None


_XML_BLOCK = ("<!--", "-->")


def _c_style(name: str, family: str) -> Language:
    return Language(name, family, ("//",), ("/*", "*/"))


def _hash(name: str, family: str) -> Language:
    return Language(name, family, ("#",))


_TABLE: dict[tuple[str, ...], Language] = {
    ("py", "pyi", "pyw"): _hash("Python", "python"),
    ("js", "mjs", "cjs", "jsx"): _c_style("JavaScript", "js"),
    ("ts", "mts", "cts", "tsx"): _c_style("TypeScript", "js"),
    ("go",): _c_style("Go", "go"),
    ("rs",): _c_style("Rust", "rust"),
    ("java",): _c_style("Java", "jvm"),
    ("kt", "kts"): _c_style("Kotlin", "jvm"),
    ("scala", "sc"): _c_style("Scala", "jvm"),
    ("cs",): _c_style("C#", "jvm"),
    ("swift",): _c_style("Swift", "jvm"),
    ("dart",): _c_style("Dart", "jvm"),
    ("proto",): _c_style("Protocol Buffers", "jvm"),
    ("c",): _c_style("C", "c"),
    ("h",): _c_style("C header", "c"),
    ("cc", "cpp", "cxx", "c++"): _c_style("C++", "c"),
    ("hh", "hpp", "hxx", "h++"): _c_style("C++ header", "c"),
    ("m", "mm"): _c_style("Objective-C", "c"),
    ("php",): Language("PHP", "php", ("//", "#"), ("/*", "*/")),
    ("scss", "sass", "less"): _c_style("Stylesheet", "css"),
    ("css",): Language("CSS", "css", (), ("/*", "*/")),
    ("rb", "rake", "gemspec"): _hash("Ruby", "ruby"),
    ("ex", "exs"): _hash("Elixir", "ruby"),
    ("sh", "bash", "zsh", "ksh"): _hash("Shell", "shell"),
    ("fish",): _hash("Fish", "shell"),
    ("ps1", "psm1"): _hash("PowerShell", "shell"),
    ("pl", "pm"): _hash("Perl", "perl"),
    ("r",): _hash("R", "plain"),
    ("jl",): _hash("Julia", "plain"),
    ("graphql", "gql"): _hash("GraphQL", "plain"),
    ("tf", "hcl"): _hash("Terraform", "plain"),
    ("mk",): _hash("Makefile", "make"),
    ("toml",): _hash("TOML", "toml"),
    ("yaml", "yml"): _hash("YAML", "yaml"),
    ("env",): _hash("Environment file", "ini"),
    ("ini", "cfg", "conf", "properties"): Language("INI", "ini", ("#", ";")),
    ("lua",): Language("Lua", "lua", ("--",)),
    ("hs",): Language("Haskell", "plain", ("--",)),
    ("sql",): Language("SQL", "sql", ("--",), ("/*", "*/")),
    ("html", "htm", "xhtml"): Language("HTML", "html", (), _XML_BLOCK),
    ("vue", "svelte"): Language("Component", "html", (), _XML_BLOCK),
    ("xml", "xsd", "xsl", "plist"): Language("XML", "xml", (), _XML_BLOCK),
    ("svg",): Language("SVG image", "xml", (), _XML_BLOCK),
    ("json", "jsonc", "json5"): Language("JSON", "json"),
    ("jsonl", "ndjson"): Language("JSON Lines", "plain"),
    ("md", "markdown", "mdx"): Language("Markdown", "markdown"),
    ("rst",): Language("reStructuredText", "plain"),
    ("txt", "text"): Language("Text", "plain"),
    ("csv", "tsv"): Language("CSV", "plain"),
}
LANGUAGES_BY_EXTENSION: dict[str, Language] = {
    extension: language for extensions, language in _TABLE.items() for extension in extensions
}
LANGUAGES_BY_FILENAME: dict[str, Language] = {
    "makefile": _hash("Makefile", "make"),
    "gnumakefile": _hash("Makefile", "make"),
    "justfile": _hash("Justfile", "make"),
    "dockerfile": _hash("Dockerfile", "docker"),
    "containerfile": _hash("Dockerfile", "docker"),
    "gemfile": _hash("Ruby", "ruby"),
    "rakefile": _hash("Ruby", "ruby"),
    ".gitignore": _hash("Ignore rules", "plain"),
    ".dockerignore": _hash("Ignore rules", "plain"),
    ".gitattributes": _hash("Git attributes", "plain"),
    ".editorconfig": Language("INI", "ini", ("#", ";")),
    "license": Language("License", "plain"),
    "copying": Language("License", "plain"),
    "readme": Language("Text", "plain"),
}
PLAIN_TEXT = Language("Text", "plain")

_BINARY_KINDS: dict[tuple[str, ...], str] = {
    ("png", "jpg", "jpeg", "gif", "webp", "bmp", "ico", "tif", "tiff", "avif", "heic"): "image",
    ("pdf",): "PDF document",
    ("doc", "docx", "odt", "rtf"): "word-processor document",
    ("xls", "xlsx", "ods"): "spreadsheet",
    ("ppt", "pptx", "odp"): "presentation",
    ("zip", "tar", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar"): "archive",
    ("jar", "war", "whl", "egg"): "package archive",
    ("so", "dylib", "dll", "a", "lib", "o", "obj"): "compiled library or object file",
    ("exe", "bin", "elf", "out"): "executable",
    ("pyc", "pyo"): "Python bytecode",
    ("class",): "Java bytecode",
    ("wasm",): "WebAssembly module",
    ("ttf", "otf", "woff", "woff2", "eot"): "font",
    ("mp3", "wav", "flac", "ogg", "m4a", "aac"): "audio",
    ("mp4", "mov", "avi", "mkv", "webm"): "video",
    ("sqlite", "sqlite3", "db", "mdb"): "database",
    (
        "npy",
        "npz",
        "pkl",
        "pickle",
        "parquet",
        "feather",
        "h5",
        "hdf5",
        "onnx",
        "pt",
        "safetensors",
    ): "data or model file",
    ("iso", "img", "dmg"): "disk image",
    ("pem", "der", "crt", "p12", "pfx", "key"): "certificate or key",
}
BINARY_KINDS: dict[str, str] = {
    extension: kind for extensions, kind in _BINARY_KINDS.items() for extension in extensions
}


def extension_of(path: str) -> str:
    """The lowercase extension of `path` without the dot (`""` when none)."""
    suffix = PurePosixPath(path).suffix
    return suffix[1:].lower() if suffix else ""


def detect_language(path: str) -> Language | None:
    """The language of the file at `path`, by exact name first, then by extension."""
    name = PurePosixPath(path).name.lower()
    stem = name.split(".")[0]
    if name in LANGUAGES_BY_FILENAME:
        return LANGUAGES_BY_FILENAME[name]
    extension = extension_of(path)
    if extension in LANGUAGES_BY_EXTENSION:
        return LANGUAGES_BY_EXTENSION[extension]
    if stem in ("readme", "license", "copying", "dockerfile", "makefile"):
        return LANGUAGES_BY_FILENAME[stem]
    return None


def binary_kind(path: str) -> str:
    """What a binary file at `path` probably is (`binary data` when the name does not say)."""
    extension = extension_of(path)
    kind = BINARY_KINDS.get(extension)
    if kind is None:
        return "binary data"
    return f"{extension.upper()} {kind}" if kind in ("image", "archive", "font") else kind


# -- definition patterns per family ---------------------------------------------------------

_JS_NAME = r"[A-Za-z_$][\w$]*"
DEFINITION_PATTERNS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "js": [
        (
            "Classes",
            re.compile(
                rf"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(?P<name>{_JS_NAME})"
            ),
        ),
        (
            "Functions",
            re.compile(
                rf"^(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(?P<name>{_JS_NAME})"
            ),
        ),
        (
            "Functions",
            re.compile(
                rf"^(?:export\s+)?(?:const|let|var)\s+(?P<name>{_JS_NAME})\s*(?::[^=]+)?=\s*"
                rf"(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::\s*[^=]+)?=>|{_JS_NAME}\s*=>)"
            ),
        ),
        (
            "Types",
            re.compile(
                rf"^(?:export\s+)?(?:declare\s+)?(?:interface|type|enum)\s+(?P<name>{_JS_NAME})"
            ),
        ),
        ("Exported constants", re.compile(rf"^export\s+(?:const|let|var)\s+(?P<name>{_JS_NAME})")),
    ],
    "go": [
        ("Functions", re.compile(r"^func\s+(?:\([^)]*\)\s*)?(?P<name>\w+)\s*[\[(]")),
        ("Types", re.compile(r"^type\s+(?P<name>\w+)\s+")),
        ("Exported constants", re.compile(r"^(?:const|var)\s+(?P<name>[A-Z]\w*)")),
    ],
    "rust": [
        (
            "Functions",
            re.compile(
                r"^(?: {4})?(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?"
                r"(?:extern\s+\"[^\"]*\"\s+)?fn\s+(?P<name>\w+)"
            ),
        ),
        (
            "Types",
            re.compile(
                r"^(?:pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait|union|type)\s+(?P<name>\w+)"
            ),
        ),
        ("Implementations", re.compile(r"^impl(?:<[^>]*>)?\s+(?P<name>[^{]+?)\s*(?:\{|where|$)")),
        ("Modules", re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?mod\s+(?P<name>\w+)")),
        (
            "Constants",
            re.compile(
                r"^(?:pub(?:\([^)]*\))?\s+)?(?:const|static)\s+(?:mut\s+)?(?P<name>[A-Z_][A-Z0-9_]*)"
            ),
        ),
    ],
    "jvm": [
        (
            "Types",
            re.compile(
                r"^\s*(?:@\w+\s+)*(?:(?:public|private|protected|internal|abstract|final|static|"
                r"sealed|data|open|partial|inner|enum|annotation|case)\s+)*"
                r"(?:class|interface|enum|record|object|struct|protocol|trait|message|service)\s+"
                r"(?P<name>\w+)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^\s{0,4}(?:(?:public|protected|internal|private|static|open|override|suspend|"
                r"inline|final)\s+)*(?:fun|func|def)\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?(?P<name>\w+)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^\s{0,4}(?:public|protected|internal)\s+(?:(?:static|final|abstract|override|"
                r"virtual|async|synchronized)\s+)*[\w<>\[\],.? ]+?\s+(?P<name>\w+)\s*\("
            ),
        ),
    ],
    "c": [
        (
            "Types",
            re.compile(
                r"^\s*(?:typedef\s+)?(?:struct|union|enum|class)\s+(?P<name>\w+)\s*(?:[:{]|$)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^(?!(?:if|else|for|while|switch|return|do|case|typedef|using|namespace|template|"
                r"struct|enum|union|class)\b)[A-Za-z_][\w\s*&:<>,~]*?\b(?P<name>[A-Za-z_~][\w:~]*)"
                r"\s*\([^;{}]*\)?\s*(?:const\s*)?(?:\{|;)?\s*$"
            ),
        ),
        ("Macros", re.compile(r"^#\s*define\s+(?P<name>[A-Z_][A-Z0-9_]*)")),
        ("Namespaces", re.compile(r"^namespace\s+(?P<name>[\w:]+)")),
    ],
    "ruby": [
        (
            "Classes and modules",
            re.compile(r"^\s*(?:class|module|defmodule)\s+(?P<name>[A-Z][\w:.]*)"),
        ),
        ("Methods", re.compile(r"^\s*(?:def|defp)\s+(?P<name>(?:self\.)?[\w?!=]+)")),
    ],
    "php": [
        (
            "Classes",
            re.compile(
                r"^\s*(?:abstract\s+|final\s+)?(?:class|interface|trait|enum)\s+(?P<name>\w+)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^\s*(?:(?:public|private|protected|static|abstract|final)\s+)*function\s+"
                r"(?P<name>\w+)"
            ),
        ),
    ],
    "shell": [
        ("Functions", re.compile(r"^\s*(?:function\s+)?(?P<name>[A-Za-z_][\w-]*)\s*\(\)")),
        ("Functions", re.compile(r"^\s*function\s+(?P<name>[A-Za-z_][\w-]*)")),
    ],
    "lua": [("Functions", re.compile(r"^\s*(?:local\s+)?function\s+(?P<name>[\w.:]+)"))],
    "perl": [
        ("Packages", re.compile(r"^\s*package\s+(?P<name>[\w:]+)")),
        ("Subroutines", re.compile(r"^\s*sub\s+(?P<name>\w+)")),
    ],
    "sql": [
        (
            "Objects",
            re.compile(
                r"(?i)^\s*create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?(?:unique\s+)?"
                r"(?P<kind>table|view|materialized\s+view|index|function|procedure|trigger|type|"
                r"schema|sequence)\s+(?:if\s+not\s+exists\s+)?(?P<name>[\w.\"`\[\]]+)"
            ),
        ),
    ],
    "make": [("Targets", re.compile(r"^(?P<name>[A-Za-z0-9_./-]+)\s*:(?![=:])"))],
    "docker": [
        (
            "Instructions",
            re.compile(r"(?i)^(?P<name>(?:FROM|EXPOSE|ENTRYPOINT|CMD|WORKDIR|USER)\s+.+)$"),
        ),
    ],
    "css": [
        ("Rules", re.compile(r"^(?P<name>[^\s@{}/][^{};]*?)\s*\{")),
        (
            "At-rules",
            re.compile(r"^(?P<name>@(?:media|keyframes|font-face|supports|import)[^{;]*)"),
        ),
    ],
}
