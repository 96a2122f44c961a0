"""The reporting module: counted usage, the units' own forms, reports sent up as dispatches,
and the periodic IT report in HTML, PDF and DOCX (see ``docs/reports.md``)."""
