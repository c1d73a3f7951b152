"""Command-line tools: `flask --app portal demo seed`, `audit verify|head`, `outbox send`, `tick`, `worker`."""
import functools
import json
import secrets
import sys
from pathlib import Path

import click
import pyotp
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from portal.core.transaction import unit_of_work
from portal.extensions import db

demo = AppGroup("demo", help="Demo data for trying the portal.")
audit_cli = AppGroup("audit", help="The hash-chained audit log.")
outbox_cli = AppGroup("outbox", help="Queued e-mails and webhook deliveries.")

DEMO_ORGANISATIONS = [
    # code, kind, Korean name, English name, country, time zone
    ("KCSC", "agency", "방송통신심의위원회", "Korea Communications Standards Commission", "KR", "Asia/Seoul"),
    ("KNPA", "agency", "경찰청", "Korean National Police Agency", "KR", "Asia/Seoul"),
    ("GLOBCHAT", "platform", "글로브챗", "GlobeChat Messenger Ltd.", "AE", "Asia/Dubai"),
    ("VIDSTREAM", "platform", "비드스트림", "VidStream Inc.", "US", "America/Los_Angeles"),
    ("SECRETARIAT", "secretariat", "디지털성범죄 대응 협의체 사무국",
     "Secretariat of the Consultative Body on Digital Sex Crimes", "KR", "Asia/Seoul"),
]

DEMO_USERS = [
    # role, organisation, e-mail local part, name, language, time zone
    ("regulator_officer", "KCSC", "officer.kcsc", "김민지", "ko", "Asia/Seoul"),
    ("regulator_supervisor", "KCSC", "supervisor.kcsc", "박준호", "ko", "Asia/Seoul"),
    ("regulator_officer", "KNPA", "officer.knpa", "이서연", "ko", "Asia/Seoul"),
    ("regulator_supervisor", "KNPA", "supervisor.knpa", "최도윤", "ko", "Asia/Seoul"),
    ("platform_agent", "GLOBCHAT", "agent.globchat", "Amira Haddad", "en", "Asia/Dubai"),
    ("platform_admin", "GLOBCHAT", "admin.globchat", "Omar Farouk", "en", "Asia/Dubai"),
    ("platform_agent", "VIDSTREAM", "agent.vidstream", "Jordan Lee", "en", "America/Los_Angeles"),
    ("platform_admin", "VIDSTREAM", "admin.vidstream", "Priya Raman", "en", "America/Los_Angeles"),
    ("secretariat", "SECRETARIAT", "secretariat", "정하은", "ko", "Asia/Seoul"),
    ("system_admin", "SECRETARIAT", "sysadmin", "System Administrator", "en", "Asia/Seoul"),
]

DEMO_CONTACTS = [
    # platform, name, e-mail local part, language, time zone, purpose
    ("GLOBCHAT", "GlobeChat Trust & Safety on-call", "trust-safety.globchat", "en", "Asia/Dubai",
     "24/7 hotline mailbox of the trust-and-safety team; escalations of very overdue requests."),
    ("VIDSTREAM", "VidStream Korea escalation desk", "korea-escalations.vidstream", "ko", "Asia/Seoul",
     "Korean-speaking desk, staffed around the clock; escalations of very overdue requests."),
]


def credentials_path() -> Path:
    return Path(current_app.instance_path) / "demo-credentials.json"


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database has users.")
def demo_seed(if_empty: bool):
    """Fill an empty database with demo organisations, users, designated contacts and requests; write
    instance/demo-credentials.json."""
    from portal.accounts.models import DesignatedContact, Organisation, User
    from portal.accounts.passwords import hash_password
    from portal.api.models import SCOPES as API_SCOPES
    from portal.api.tokens import VALIDITY_DAYS as TOKEN_VALIDITY_DAYS
    from portal.api.tokens import create_token
    from portal.core import audit, clock

    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("demo data is refused when PORTAL_ENV=production")
    if db.session.scalar(select(func.count()).select_from(User)):
        if if_empty:
            click.echo("the database already has users: no demo data added")
            return
        raise click.ClickException("the database already has users; demo data goes into an empty one only")

    organisations = {}
    for code, kind, name_ko, name_en, country, zone in DEMO_ORGANISATIONS:
        organisations[code] = Organisation(code=code, kind=kind, name_ko=name_ko, name_en=name_en,
                                           country=country, timezone=zone)
        db.session.add(organisations[code])
    db.session.flush()

    for code, name, local, language, zone, notes in DEMO_CONTACTS:
        contact = DesignatedContact(organisation_id=organisations[code].id, name=name,
                                    email=f"{local}@demo.portal.invalid", language=language, timezone=zone,
                                    notes=notes)
        db.session.add(contact)
        db.session.flush()
        audit.record("demo.contact_created", contact, actor=None, organisation_id=contact.organisation_id)

    credentials = []
    for role, code, local, name, language, zone in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        secret = pyotp.random_base32()
        user = User(email=f"{local}@demo.portal.invalid", name=name, organisation_id=organisations[code].id,
                    role=role, language=language, timezone=zone, password_hash=hash_password(password),
                    totp_secret=secret, totp_confirmed_at=clock.now())
        db.session.add(user)
        db.session.flush()
        audit.record("demo.user_created", user, actor=None, organisation_id=user.organisation_id,
                     details={"role": role})
        _token, api_token = create_token(user, "demo", list(API_SCOPES), max(TOKEN_VALIDITY_DAYS))
        credentials.append({
            "role": role, "organisation": code, "organisation_kind": organisations[code].kind,
            "name": name, "email": user.email, "password": password, "totp_secret": secret,
            "api_token": api_token,
        })
    from portal.requests.demo import seed_requests

    demo_requests = seed_requests()
    from portal.consultations.demo import seed_consultations

    demo_consultations = seed_consultations()
    from portal.minutes.demo import seed_minutes

    demo_minutes = seed_minutes()
    from portal.commitments.demo import seed_commitments

    demo_commitments = seed_commitments()
    db.session.flush()

    path = credentials_path()
    path.write_text(json.dumps({"users": credentials}, ensure_ascii=False, indent=2) + "\n")
    path.chmod(0o600)
    click.echo(f"demo data created: {len(organisations)} organisations, {len(credentials)} users, "
               f"{demo_requests} requests, {demo_consultations} consultations, {demo_minutes} minutes, "
               f"{demo_commitments or 0} commitment templates")
    click.echo(f"credentials written to {path}")


@audit_cli.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A checkpoint written by `audit head`; the chain must still contain it (repeatable).")
def audit_verify(checkpoints: tuple[str, ...]):
    """Exit 0 when the chain holds (and contains every checkpoint given); otherwise say what broke."""
    from portal.core.audit import CheckpointError, read_checkpoint, verify_chain, verify_checkpoint
    from portal.core.documents import DocumentError

    report = verify_chain()
    if not report.ok:
        click.echo(f"audit chain BROKEN at row {report.broken_seq}: {report.reason} "
                   f"({report.checked} rows verified before it)", err=True)
        sys.exit(1)
    for name in checkpoints:
        try:
            checkpoint = read_checkpoint(Path(name).read_bytes())
        except (CheckpointError, DocumentError) as exc:
            click.echo(f"checkpoint {name} REFUSED: {exc}", err=True)
            sys.exit(1)
        problem = verify_checkpoint(checkpoint)
        if problem:
            click.echo(f"audit chain does NOT contain checkpoint {name} ({checkpoint.seq} at "
                       f"{checkpoint.time}): {problem}", err=True)
            sys.exit(1)
        click.echo(f"checkpoint {name} ({checkpoint.seq} at {checkpoint.time}) is in the chain")
    click.echo(f"audit chain intact: {report.checked} rows, head {report.head_hash}")


@audit_cli.command("head")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the checkpoint to this file instead of printing it.")
def audit_head(output: str | None):
    """Print a checkpoint of the chain's head (sequence, hash, time) signed with the document signing key,
    for an auditor to keep elsewhere and give back to `audit verify --checkpoint`."""
    from portal.core.audit import make_checkpoint
    from portal.core.documents import DocumentError

    try:
        checkpoint = make_checkpoint()
    except DocumentError as exc:  # no signing key configured in production
        raise click.ClickException(f"the checkpoint cannot be signed: {exc}") from None
    if output:
        Path(output).write_bytes(checkpoint)
        summary = checkpoint.split(b"\n", 1)[0].decode()
        click.echo(f"checkpoint written to {output}: {summary}")
        return
    click.echo(checkpoint.decode(), nl=False)


@outbox_cli.command("send")
@click.option("--limit", default=100, show_default=True)
def outbox_send(limit: int):
    """Send the queued webhook deliveries and e-mails (these need PORTAL_MAIL_SMTP_HOST) that are due."""
    from portal.core.outbox import send_pending

    if not current_app.config.get("MAIL_SMTP_HOST"):
        click.echo("no SMTP host configured (PORTAL_MAIL_SMTP_HOST): e-mails stay in the outbox")
    counts = send_pending(limit)
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


# --- Formal requests: deadlines and the worker ------------------------------------------------------------

@click.command("tick")
@with_appcontext
def tick():
    """Mark overdue requests, send reminders and escalations (idempotent; run every minute or from cron)."""
    from portal.requests.services import tick as run_tick

    counts = run_tick()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@click.command("worker")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between rounds.")
@click.option("--iterations", default=0, show_default=True, help="Stop after this many rounds (0: never).")
@with_appcontext
def worker(interval: float, iterations: int):
    """Every `interval` seconds: every registered job (deadline tick, ... and last the outbox), each in its
    own unit of work."""
    import time

    from portal.core import jobs

    done = 0
    while True:
        started = time.monotonic()
        click.echo("; ".join(f"{name} {counts}" for name, counts in jobs.run_round().items()))
        done += 1
        if iterations and done >= iterations:
            return
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def _in_unit_of_work(command: click.Command) -> None:
    """Each CLI command commits once when it ends normally and rolls back otherwise (the worker's jobs
    each have their own unit of work)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _in_unit_of_work(sub)
        return
    callback = command.callback
    if command.name == "worker" or callback is None or getattr(callback, "in_unit_of_work", False):
        return

    @functools.wraps(callback)
    def run(*args, **kwargs):
        with unit_of_work():
            return callback(*args, **kwargs)

    run.in_unit_of_work = True
    command.callback = run


def init_app(app: Flask) -> None:
    for group in (demo, audit_cli, outbox_cli):
        app.cli.add_command(group)
    app.cli.add_command(tick)
    app.cli.add_command(worker)
    for command in app.cli.commands.values():
        _in_unit_of_work(command)
