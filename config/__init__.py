"""Settings, logging and the database: the layer every other layer builds on.

It imports no other congvan layer (``config <- keys <- exchange <- mailgw <- office``).
"""
