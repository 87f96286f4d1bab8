"""Context generation: one markdown frame per node, leaves first, through a provider.

`plan` orders the tree's nodes into levels; the `orchestrator` runs each level through the
request `queue` (concurrency, retries, back-off) with the node's agent and prompt; `frames`
stores each result under its node's head, and `read` serves frames back to readers.
"""
