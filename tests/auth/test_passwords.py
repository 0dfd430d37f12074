"""Password hashing: scrypt in every deployment, whatever cheaper method the suite uses."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tracker import create_app
from tracker.auth.services import create_user
from tracker.extensions import db


def test_a_deployed_app_hashes_passwords_with_scrypt(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_METHOD", "plain")  # not an environment setting
    deployed = create_app()
    assert deployed.config["TRACKER_PASSWORD_HASH_METHOD"] == "scrypt"


def test_a_user_hashed_with_another_method_still_signs_in(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_PASSWORD_HASH_METHOD", "scrypt")
    user = create_user("hashed-with-scrypt", role="viewer", password=PASSWORD)
    db.session.commit()
    assert user.password_hash.startswith("scrypt:")
    monkeypatch.setitem(app.config, "TRACKER_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/tasks").status_code == 200
    client.post("/logout")
    wrong = client.post("/login", data={"username": user.username, "password": "wrong-pass"})
    assert wrong.status_code == 200
    assert client.get("/tasks").status_code == 302
