"""docker-compose.yml cannot run here (no Docker engine): check what it promises by reading it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_database_image_is_a_pinned_timescaledb_ha_postgres17_tag() -> None:
    image = COMPOSE["services"]["db"]["image"]
    assert re.fullmatch(r"timescale/timescaledb-ha:pg17\.\d+-ts2\.\d+\.\d+", image), image


def test_database_has_a_volume_healthcheck_and_a_local_only_port() -> None:
    db = COMPOSE["services"]["db"]
    assert any(v.endswith(":/home/postgres/pgdata") for v in db["volumes"])
    assert db["volumes"][0].split(":")[0] in COMPOSE["volumes"]
    test = " ".join(db["healthcheck"]["test"])
    assert "pg_isready" in test
    assert db["healthcheck"]["retries"] >= 5
    (port,) = db["ports"]
    assert port.endswith(":5432") and port.startswith("${TSQ_DB_BIND:-127.0.0.1}")
    assert "shared_preload_libraries=timescaledb" in db["command"]


def test_password_comes_from_env_and_is_required() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text, "compose must refuse to start without a password"
    assert env_example()["POSTGRES_PASSWORD"] == "", ".env.example must not ship a password"
    variables = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert variables <= set(env_example()), f"every variable is documented: {variables - set(env_example())}"


def test_migrations_run_after_the_database_is_healthy() -> None:
    migrate = COMPOSE["services"]["migrate"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["command"][:3] == ["python", "-m", "db.migrate"]
    assert "DATABASE_URL" in migrate["environment"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile and "COPY db" in dockerfile


def test_env_file_is_git_ignored() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().split()
