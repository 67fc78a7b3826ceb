# Copy to instance/config.py and adjust. Environment variables SIPROC_<KEY> override these values.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://siproc@localhost/siproc"
# SESSION_COOKIE_SECURE = True          # behind HTTPS
# SCHEDULER_INTERVAL_SECONDS = 30
# DEMO_DATA_ALLOWED = False             # production
