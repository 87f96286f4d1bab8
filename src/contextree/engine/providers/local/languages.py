"""What a file is, from its name: language, family, comment syntax, binary kind.

A `Language` says how to read a text file (its family picks the summarizer and the definition
patterns); `binary_kind` names what a binary file probably holds. Both are pure lookups, so
the same name always gets the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    ("rst", "rest"): Language("reStructuredText", "rst"),
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


def file_name(path: str) -> str:
    """The last component of POSIX `path`, as `PurePosixPath(path).name` reads it (empty and
    `.` components skipped), without building a path object: this runs for every node."""
    name = path.rpartition("/")[2]
    if name and name != ".":
        return name
    return next((part for part in reversed(path.split("/")) if part and part != "."), "")


def _suffix_start(name: str) -> int:
    """Where the suffix of `name` starts (its last dot), or -1 without one (`PurePath`)."""
    dot = name.rfind(".")
    return dot if 0 < dot < len(name) - 1 else -1


def extension_of(path: str) -> str:
    """The lowercase extension of `path` without the dot (`""` when none)."""
    name = file_name(path)
    dot = _suffix_start(name)
    return name[dot + 1 :].lower() if dot != -1 else ""


def stem_of(path: str) -> str:
    """The file name of `path` without its extension (`PurePosixPath(path).stem`)."""
    name = file_name(path)
    dot = _suffix_start(name)
    return name[:dot] if dot != -1 else name


def detect_language(path: str) -> Language | None:
    """The language of the file at `path`, by exact name first, then by extension."""
    name = file_name(path).lower()
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
