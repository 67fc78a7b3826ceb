"""Operations: health endpoints and database backups (tools for the people who run SIPROC)."""
