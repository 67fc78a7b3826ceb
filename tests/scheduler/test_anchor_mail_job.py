"""The scheduler e-mails the audit anchor daily when AUDIT_ANCHOR_EMAIL is set, and a mail server that is away
never stops it."""
import smtplib

from app.audit import anchor
from app.scheduler.runner import _jobs


class Recorder:
    def __init__(self):
        self.jobs = {}

    def add_job(self, func, trigger, **kwargs):
        self.jobs[kwargs["id"]] = (func, trigger, kwargs)


def test_the_daily_anchor_mail_is_scheduled_only_when_an_address_is_configured(app):
    without = Recorder()
    _jobs(without, app)
    assert "audit_anchor_mail" not in without.jobs
    app.config["AUDIT_ANCHOR_EMAIL"] = "direccion@example.org"
    with_address = Recorder()
    _jobs(with_address, app)
    _func, trigger, kwargs = with_address.jobs["audit_anchor_mail"]
    assert trigger == "interval" and kwargs["hours"] == 24


def test_a_mail_server_that_is_away_does_not_stop_the_job(app, monkeypatch):
    app.config["AUDIT_ANCHOR_EMAIL"] = "direccion@example.org"
    sent = []

    def away(config):
        sent.append(config["AUDIT_ANCHOR_EMAIL"])
        raise smtplib.SMTPConnectError(421, "away")

    monkeypatch.setattr(anchor, "mail_latest", away)
    recorder = Recorder()
    _jobs(recorder, app)
    recorder.jobs["audit_anchor_mail"][0]()  # logs the failure, raises nothing
    assert sent == ["direccion@example.org"]
