"""The node's figures for Prometheus, and its health checks, on the admin listener."""
