"""nbu-push: Veritas NetBackup job and storage metrics for Prometheus, as a batch job."""

__version__ = "0.1.0"
