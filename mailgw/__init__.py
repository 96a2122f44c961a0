"""The mail gateway: SMTP submission, local delivery, mail between units as dispatches."""
