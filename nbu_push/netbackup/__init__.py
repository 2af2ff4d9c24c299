"""NetBackup REST API access: session, auth, version negotiation, retries, paging."""
