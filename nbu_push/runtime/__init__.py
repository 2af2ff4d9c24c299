"""What every part of a run relies on: exceptions and their exit codes, the deadline and
signals, retries, HTTP sessions, files written whole, the lock, logs, progress, per-collector
counters and the allocator. Nothing here knows NetBackup, metrics or outputs."""
