"""`demo seed` adds requests in several states next to the demo users (whose contract is unchanged)."""
import json
from pathlib import Path

from sqlalchemy import select

from portal.extensions import db
from portal.requests.models import LegalBasis, Request


def test_demo_seed_creates_requests_in_various_states(app, runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        statuses = set(db.session.scalars(select(Request.status)))
        references = [r for r in db.session.scalars(select(Request.reference)) if r]
        assert db.session.scalar(select(LegalBasis.id))
    assert {"draft", "awaiting_approval", "issued", "acknowledged", "responded_partly", "closed"} <= statuses
    assert any(r.startswith("KCSC-") for r in references) and any(r.startswith("KNPA-") for r in references)
    users = json.loads((Path(app.instance_path) / "demo-credentials.json").read_text())["users"]
    assert {"email", "password", "totp_secret", "role", "organisation"} <= set(users[0])


def test_demo_platform_agent_sees_the_inbox(app, runner, client):
    import pyotp

    runner.invoke(args=["demo", "seed"])
    users = json.loads((Path(app.instance_path) / "demo-credentials.json").read_text())["users"]
    agent = next(u for u in users if u["role"] == "platform_agent" and u["organisation"] == "GLOBCHAT")
    client.post("/login", data={"email": agent["email"], "password": agent["password"]})
    client.post("/login/code", data={"code": pyotp.TOTP(agent["totp_secret"]).now()})
    page = client.get("/requests/?status=all&lang=en").get_data(as_text=True)
    assert "KCSC-" in page and "VIDSTREAM" not in page
