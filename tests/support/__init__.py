"""Helpers the tests share: databases, free ports, the ``congvan`` command, demo networks."""
