"""``congvan backup`` and ``congvan restore``: a node's database, files and keys in one file,
encrypted with age so that only the node's passphrase opens it."""
