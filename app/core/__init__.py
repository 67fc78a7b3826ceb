"""Small shared pieces: clock, database set-up, errors, web helpers."""
