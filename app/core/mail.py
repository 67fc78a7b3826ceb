"""The SMTP connection of the configuration (MAIL_*), for every package that sends mail."""
import smtplib


def connection(config) -> smtplib.SMTP:
    """An open, authenticated SMTP connection (use it in a `with` block). Raises OSError/SMTPException."""
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"])
    if config["MAIL_USE_TLS"]:
        smtp.starttls()
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return smtp
