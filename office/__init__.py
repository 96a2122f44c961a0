"""The e-office: one folder per feature (its services, pages, templates and messages), the
shared web app in ``office.web``, and the composition root in ``office.node`` (``office.node.app``
builds a node, ``office.node.cli`` is the ``congvan`` command)."""
