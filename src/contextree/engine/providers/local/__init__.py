"""The built-in `local` provider: deterministic, offline frames drawn from the source itself.

`provider` answers the request; `languages` tells what a file is from its name and `binary`
from its first bytes; `python` (with `python_api`, `python_render`) and `text` (with `code`,
`documents`, `data`) outline a file into a `Summary`, `directory` a directory from its
children's frames, and `summary` renders it as markdown.
"""
