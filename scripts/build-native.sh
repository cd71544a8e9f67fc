#!/usr/bin/env bash
# Builds the optional native ta kernels (db/ta/native, the tsquant_ta extension) for PostgreSQL
# <major> and installs them into that server's directories. Skips the work when the installed
# copy already comes from these sources. Without the server headers or write access to the
# server's directories it says so in one line and exits 0: ta.* then runs its PL/pgSQL kernels.
# TSQ_NATIVE=off skips it. Usage: scripts/build-native.sh <major>
set -euo pipefail
cd "$(dirname "$0")/.."

major=${1:?usage: scripts/build-native.sh <postgresql major>}
pg_config=${TSQ_PG_CONFIG:-/usr/lib/postgresql/$major/bin/pg_config}
build=${TSQ_NATIVE_BUILD:-.tsq/native-build}

if [ "${TSQ_NATIVE:-on}" = off ]; then
    echo "setup: native ta kernels skipped (TSQ_NATIVE=off): ta.* runs its PL/pgSQL kernels"
    exit 0
fi
if [ ! -x "$pg_config" ] || ! command -v cc >/dev/null; then
    echo "setup: native ta kernels not built (needs postgresql-server-dev-$major and a C compiler): ta.* runs its PL/pgSQL kernels"
    exit 0
fi

source_hash=$(cd db/ta/native && sha256sum $(ls | sort) | sha256sum | cut -c1-12)
libdir=$("$pg_config" --pkglibdir)
extdir=$("$pg_config" --sharedir)/extension
if grep -q "(source $source_hash)" "$extdir/tsquant_ta.control" 2>/dev/null && [ -f "$libdir/tsquant_ta.so" ]; then
    exit 0
fi

rm -rf "$build"
mkdir -p "$build"
cp db/ta/native/* "$build/"
sed -i "s/^comment = .*/comment = 'tsquant native ta kernels (source $source_hash)'/" "$build/tsquant_ta.control"
if ! make -C "$build" PG_CONFIG="$pg_config" SOURCE_HASH="$source_hash" >"$build/build.log" 2>&1; then
    echo "setup: the native ta kernels failed to build — see $build/build.log (TSQ_NATIVE=off skips them)" >&2
    exit 1
fi
if [ ! -w "$libdir" ] || [ ! -w "$extdir" ]; then
    echo "setup: native ta kernels built but not installed (PostgreSQL's directories need root: sudo make -C $build install PG_CONFIG=$pg_config): ta.* runs its PL/pgSQL kernels"
    exit 0
fi
make -C "$build" install PG_CONFIG="$pg_config" SOURCE_HASH="$source_hash" >>"$build/build.log" 2>&1
echo "setup: installed the native ta kernels (tsquant_ta, source $source_hash) into PostgreSQL $major"
