"""A workspace as a Merkle tree: its layout, layered config, ignore rules, scan and watch.

`scan` walks the folder with a `TreeBuilder`, hashing files and directories into node
records (`tree`) so that an unchanged subtree keeps its id; `watch` rescans what changed on
disk; `status` compares the stored tree with the disk.
"""
