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


def test_grafana_image_port_env_volumes_and_healthcheck() -> None:
    grafana = COMPOSE["services"]["grafana"]
    assert re.fullmatch(r"grafana/grafana-oss:\d+\.\d+\.\d+", grafana["image"]), grafana["image"]
    (port,) = grafana["ports"]
    assert port == "${TSQ_GRAFANA_BIND:-127.0.0.1}:${TSQ_GRAFANA_PORT:-3000}:3000", "loopback unless told"
    env = grafana["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?"), "no default admin password"
    assert env["TSQ_GRAFANA_DB_PASSWORD"].startswith("${TSQ_GRAFANA_DB_PASSWORD:?")
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false" and env["TSQ_GRAFANA_DB_HOST"] == "db:5432"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"]}
    assert (ROOT / mounts["/etc/grafana/provisioning"]).is_dir() and (ROOT / mounts["/var/lib/grafana/dashboards"]).is_dir()
    assert mounts["/var/lib/grafana"] in COMPOSE["volumes"]
    assert all(v.endswith(":ro") for v in grafana["volumes"] if v.startswith("./"))
    assert "/api/health" in " ".join(grafana["healthcheck"]["test"]) and grafana["healthcheck"]["retries"] >= 5
    assert grafana["depends_on"]["db"]["condition"] == "service_healthy"
    assert grafana["depends_on"]["grafana-login"]["condition"] == "service_completed_successfully"


def test_every_variable_the_datasource_file_reads_is_set_for_grafana() -> None:
    datasource = (ROOT / "grafana/provisioning/datasources/tsquant.yaml").read_text()
    needed = set(re.findall(r"\$\{([A-Z_]+)\}", datasource))
    assert needed and needed <= set(COMPOSE["services"]["grafana"]["environment"]), needed
    assert yaml.safe_load(datasource)["datasources"][0]["user"] == "tsq_grafana"


def test_grafana_login_password_is_set_after_migrating_without_a_command_line_secret() -> None:
    login = COMPOSE["services"]["grafana-login"]
    assert login["image"] == COMPOSE["services"]["db"]["image"]
    assert login["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    script = " ".join(login["entrypoint"])
    assert "alter role tsq_grafana password :'pw'" in script and "$$GRAFANA_DB_PASSWORD" in script
    assert login["environment"]["GRAFANA_DB_PASSWORD"].startswith("${TSQ_GRAFANA_DB_PASSWORD:?")
    for name in ("GRAFANA_ADMIN_PASSWORD", "TSQ_GRAFANA_DB_PASSWORD"):
        assert env_example()[name] == "", f".env.example must not ship {name}"


def test_the_image_has_every_tool_the_commands_run() -> None:
    from db.cli import COMMANDS
    from loaders.cli import DELEGATED

    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    modules = {c.module for c in COMMANDS.values()} | {m for m, _ in DELEGATED.values()}
    missing = {m for m in modules if m.split(".")[0] not in copied}
    assert not missing, f"the Dockerfile does not copy the packages of {sorted(missing)}"
