"""The built-in `local` provider: deterministic, offline frames drawn from the source itself.

`provider` answers the request; `languages` tells what a file is from its name; `python` and
`text` outline a file of that kind into a `Summary`, which `summary` renders as markdown.
"""
