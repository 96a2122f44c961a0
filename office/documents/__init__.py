"""Documents: the incoming and outgoing registers and their processing (Decree 30/2020)."""
