"""``congvan doctor``: what is wrong with a node, and how to fix it.

Each check is one function that looks at one thing (the settings, the database, a certificate,
the trust data, a peer, a disk) and answers with :class:`~office.doctor.findings.Finding`\\ s;
:func:`office.doctor.checks.run_checks` runs them all. The checks use the functions the node
itself runs on (the same settings loader, key store, revocation checker, signed directory and
peer TLS context), so the doctor finds what would stop the node, not a second opinion of it.

Nothing heavy is imported here: ``office.node.cli`` imports the command, which imports the checks
when it runs.
"""
