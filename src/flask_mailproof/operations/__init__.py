"""The operator's view: the health check and the Prometheus metrics, read-only and cheap."""
