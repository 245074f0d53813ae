"""`make bench`: throughput and latency of partner ingest on this machine (not a test)."""
