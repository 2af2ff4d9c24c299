"""The jobs collector's bookkeeping, pure and I/O-free (not a collector: discovery skips
packages and modules whose name starts with `_`).

`cells`: jobs by label set, packed (a minute's, or what a slice counted); `observations`:
what the jobs say about each client and policy; `tally`: records folded while a slice is
read; `ledger`: what the run state keeps between runs (the watermark, the counters, the
per-minute buckets) and its codec. The wire schema of a job and the `/admin/jobs` queries are
in `netbackup/jobs.py`. See docs/state.md.
"""
