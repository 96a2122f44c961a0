"""Dispatches between nodes: envelopes, the peer API over mutual TLS, delivery and receipts.

Does not know what a dispatch means: higher layers register a handler per kind.
"""
