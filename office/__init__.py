"""The web e-office and the composition root: ``office.app`` builds a node, ``office.cli`` is
the ``congvan`` command."""
