# Copy to instance/config.py and adjust. Environment variables SIPROC_<KEY> override these values.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://siproc@localhost/siproc"
# SESSION_COOKIE_SECURE = True          # the default; browsers send it to 127.0.0.1 over http too
# TOTP_REQUIRED_FOR_CENTRAL = True      # central roles must use a second factor
# SESSION_IDLE_MINUTES = 30
# SCHEDULER_INTERVAL_SECONDS = 30
# DEMO_DATA_ALLOWED = False             # production
