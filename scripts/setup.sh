#!/usr/bin/env bash
# Installs what tsquant needs on a Debian/Ubuntu machine and skips what is already there:
#   OS packages  PostgreSQL server (15 preferred), pgTAP, pg_prove, plpgsql_check, python3-venv;
#                the server headers and a C compiler for the native ta kernels
#   native       the tsquant_ta extension (db/ta/native) built and installed into that server
#   .venv        Python dependencies from requirements.txt (re-installed only when it changes)
# As root it installs; as a normal user with packages missing it stops with one sentence (the
# native kernels are optional: without their packages ta.* runs its PL/pgSQL kernels).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

pg_major() {
    # An installed server wins; otherwise the newest of 15+ that apt can install (15 preferred).
    local installed
    installed=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/.*#\1#' | sort -n | tail -1)
    if [ -n "${PG_MAJOR:-}" ]; then echo "$PG_MAJOR"; return; fi
    if [ -n "$installed" ]; then echo "$installed"; return; fi
    if apt-cache show postgresql-15 >/dev/null 2>&1; then echo 15; return; fi
    apt-cache depends postgresql 2>/dev/null | sed -nE 's/.*Depends: postgresql-([0-9]+)$/\1/p' | head -1
}

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

os_packages() {
    local major=$1
    echo "postgresql-$major postgresql-$major-pgtap postgresql-$major-plpgsql-check libtap-parser-sourcehandler-pgtap-perl"
}

native_packages() {
    echo "postgresql-server-dev-$1 gcc make libc6-dev"
}

missing_packages() {
    local major=$1 p missing=""
    for p in $(os_packages "$major"); do is_installed "$p" || missing="$missing $p"; done
    "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || missing="$missing python3-venv"
    echo "$missing"
}

missing_native_packages() {
    local p missing=""
    for p in $(native_packages "$1"); do is_installed "$p" || missing="$missing $p"; done
    echo "$missing"
}

if ! command -v dpkg-query >/dev/null; then
    echo "setup: this machine is not Debian/Ubuntu; install PostgreSQL >= 15 with pgTAP, pg_prove and plpgsql_check, then set TSQ_PG_BINDIR" >&2
    exit 1
fi

major=$(pg_major)
missing=$(missing_packages "${major:-15}")
if [ "$(id -u)" = 0 ] && [ "${TSQ_NATIVE:-on}" != off ]; then
    missing="$missing$(missing_native_packages "${major:-15}")"
fi
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup: missing OS packages:$missing — install them with: sudo apt-get install -y$missing" >&2
        exit 1
    fi
    echo "setup: installing OS packages:$missing"
    apt-get update -q >/dev/null
    major=$(pg_major)
    missing=$(missing_packages "${major:-15}")
    [ "${TSQ_NATIVE:-on}" = off ] || missing="$missing$(missing_native_packages "${major:-15}")"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

scripts/build-native.sh "${major:-15}"

lock_hash=$(sha256sum requirements.txt | cut -c1-16)
stamp="$VENV/.requirements-$lock_hash"
if [ ! -f "$stamp" ]; then
    echo "setup: installing Python dependencies into $VENV"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -r requirements.txt
    rm -f "$VENV"/.requirements-*
    touch "$stamp"
fi
# The `tsquant` command (pyproject.toml [project.scripts]): this checkout, editable, re-installed
# when pyproject.toml changes or the command points at another checkout.
cli_stamp="$VENV/.tsquant-$(sha256sum pyproject.toml | cut -c1-16)"
venv_python="$VENV/bin/python"
[[ "$venv_python" = /* ]] || venv_python="$PWD/$venv_python"
installed_from=$(cd / && env -u PYTHONPATH "$venv_python" -c \
    'import db, os; print(os.path.dirname(os.path.dirname(db.__file__)))' 2>/dev/null || true)
if [ ! -f "$cli_stamp" ] || [ ! -x "$VENV/bin/tsquant" ] || [ "$installed_from" != "$PWD" ]; then
    echo "setup: installing the tsquant command into $VENV"
    "$VENV/bin/python" -m pip install -q --no-deps -e . >/dev/null
    rm -f "$VENV"/.tsquant-*
    touch "$cli_stamp"
fi

bash scripts/setup-browser.sh

echo "setup: ready (PostgreSQL ${major}, $("$VENV/bin/python" --version))"
