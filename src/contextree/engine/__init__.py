"""The headless engine: a workspace scanned into a Merkle tree, and context generated for it.

`workspace/` turns a folder into content-addressed tree records and keeps them current;
`generation/` plans and runs one frame per node, leaves first, through a provider from
`providers/`. Every part reports progress only through the `Emitter` seam in `emitter`.
"""
