"""`flask --app portal demo seed`: the contract other scripts rely on (DESIGN.md)."""
import json
from collections import Counter
from pathlib import Path

import pyotp


def _credentials(app) -> list[dict]:
    return json.loads((Path(app.instance_path) / "demo-credentials.json").read_text())["users"]


def test_seed_writes_credentials_for_every_role(app, runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    users = _credentials(app)
    for user in users:
        assert {"role", "organisation", "organisation_kind", "email", "password", "totp_secret"} <= set(user)
    agencies = Counter((u["organisation"], u["role"]) for u in users if u["organisation_kind"] == "agency")
    platforms = Counter((u["organisation"], u["role"]) for u in users if u["organisation_kind"] == "platform")
    agency_codes = {code for code, _ in agencies}
    platform_codes = {code for code, _ in platforms}
    assert len(agency_codes) >= 2 and len(platform_codes) >= 2
    for code in agency_codes:
        assert agencies[(code, "regulator_officer")] and agencies[(code, "regulator_supervisor")]
    for code in platform_codes:
        assert platforms[(code, "platform_agent")] and platforms[(code, "platform_admin")]
    assert any(u["role"] == "secretariat" for u in users)


def test_seeded_users_can_log_in_with_their_credentials(app, runner, client):
    runner.invoke(args=["demo", "seed"])
    user = next(u for u in _credentials(app) if u["role"] == "platform_agent")
    client.post("/login", data={"email": user["email"], "password": user["password"]})
    response = client.post("/login/code", data={"code": pyotp.TOTP(user["totp_secret"]).now()})
    assert response.location.endswith("/home")


def test_seed_is_random_on_every_install(app, runner, tmp_path):
    runner.invoke(args=["demo", "seed"])
    first = {u["email"]: (u["password"], u["totp_secret"]) for u in _credentials(app)}
    assert len({p for p, _ in first.values()}) == len(first)  # no shared passwords either


def test_seed_refuses_a_database_with_users_unless_asked_to_skip(app, runner):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed"]).exit_code != 0
    assert runner.invoke(args=["demo", "seed", "--if-empty"]).exit_code == 0


def test_seed_is_refused_in_production(app, runner):
    app.config["PORTAL_ENV"] = "production"
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and "production" in result.output
