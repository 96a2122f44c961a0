"""Who is who: the unit directory, nodes, staff accounts and the provincial PKI.

Knows nothing of dispatches, mail or documents.
"""
