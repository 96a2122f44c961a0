"""The two books of each register: the ordinary book and the secret one (sổ mật).

Decree 30/2020/NĐ-CP (Art. 20-22, Appendix IV) has secret documents (Mật, Tối mật, Tuyệt mật)
registered in a book of their own, and the 2018 Law on Protection of State Secrets
(29/2018/QH14, Art. 2(3), Art. 5) lets a secret be known only to whom it concerns. So the web
register, its print and its Excel export each show one book, never both mixed; the secret one
says so in its title and its file name, and is closed to an account without a clearance (it
answers as a page that does not exist). Inside it, :func:`office.documents.access.visible_to`
still keeps each row to the reader's own clearance.
"""

from __future__ import annotations

from keys.signin import StaffMember
from office.documents.models import NORMAL_SERIES, SECRET_SERIES

#: A book is the series its numbers were taken from (:func:`office.documents.numbering.series_for`).
NORMAL, SECRET = NORMAL_SERIES, SECRET_SERIES


def may_open_secret(staff: StaffMember) -> bool:
    """Whether the secret book exists for ``staff``: cleared for Mật at least, and not the
    administrator, who reads no documents."""
    return staff.clearance > 0 and staff.role != "admin"


def opened_book(staff: StaffMember, requested: str) -> str | None:
    """The book ``requested`` (``secret``, else the ordinary one); None for the secret book
    asked for by someone who may not open it (the page answers as one that does not exist)."""
    if requested != SECRET:
        return NORMAL
    return SECRET if may_open_secret(staff) else None
