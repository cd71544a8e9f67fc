"""Secure config (seed 001 SecureConfig): key spellings, both file formats, every way a file or
key can be wrong (one sentence each, never the key or a value), the command, and the loaders
reading their secrets from the file. The seed-format files are written here with the
`cryptography` primitives directly, not with the module under test."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from loaders.core.config import ConfigError, Environment
from models_py import secure_config as sc

ROOT = Path(__file__).resolve().parents[2]
KEY = bytes(range(32))
KEY_HEX = KEY.hex()
KEY_B64 = base64.b64encode(KEY).decode()
SECRETS = {"mt5_login": 123456, "mt5_password": "motdepasse-Très-secret", "mt5_server": "nom_serveur",
           "KEY_TAAPI_IO": "taapi-secret-value-42"}


def seed_file(path: Path, data, key: bytes = KEY, iv: bytes = b"\x01" * 16, raw: bytes | None = None) -> Path:
    """Seed 001's layout: 16 bytes of IV, then base64 of AES-256-CBC/PKCS7(JSON)."""
    plaintext = raw if raw is not None else json.dumps(data).encode()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    path.write_bytes(iv + base64.b64encode(enc.update(padded) + enc.finalize()))
    return path


def assert_clean(message: str) -> None:
    for secret in ("motdepasse", "taapi-secret-value", KEY_HEX, KEY_B64, "nom_serveur"):
        assert secret not in message
    assert "\n" not in message.strip()


# -- keys --------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [KEY, KEY_HEX, KEY_HEX.upper(), KEY_B64, " " + KEY_HEX + "\n"])
def test_key_spellings_give_the_same_32_bytes(spelling):
    assert sc.parse_key(spelling) == KEY


def test_a_raw_32_character_key_is_its_bytes():
    raw = "abcdefghijklmnopqrstuvwxyz012345"
    assert sc.parse_key(raw) == raw.encode()


@pytest.mark.parametrize("bad", ["", "short", "x" * 31, "x" * 33, "g" * 64, KEY_HEX[:-1], "A" * 43 + "!",
                                 base64.b64encode(bytes(33)).decode()])
def test_a_bad_key_is_one_clear_error_without_the_key(bad):
    with pytest.raises(sc.SecureConfigError) as err:
        sc.parse_key(bad)
    message = str(err.value)
    assert "CONFIG_AES_KEY" in message
    if bad:
        assert bad not in message


# -- formats -----------------------------------------------------------------------------------

def test_reads_the_seed_format(tmp_path):
    cfg = sc.SecureConfig(seed_file(tmp_path / "config.enc", SECRETS), KEY_HEX)
    assert cfg.format == "seed"
    assert cfg.get("mt5_login") == 123456 and cfg.get("mt5_password") == SECRETS["mt5_password"]
    assert cfg.get("missing") is None and cfg.get("missing", 7) == 7
    assert cfg.names() == sorted(SECRETS)
    assert "motdepasse" not in repr(cfg)


def test_writes_the_authenticated_format_and_reads_it_back(tmp_path):
    path = tmp_path / "s.enc"
    sc.create(path, KEY_B64, SECRETS)
    blob = path.read_bytes()
    assert blob[:7] == b"TSQSEC\x01" and len(blob) == 7 + 12 + len(json.dumps(SECRETS, sort_keys=True, separators=(",", ":")).encode()) + 16
    # independent decryption with the documented layout
    plain = AESGCM(KEY).decrypt(blob[7:19], blob[19:], blob[:7])
    assert json.loads(plain) == SECRETS
    assert sc.SecureConfig(path, KEY).as_strings()["mt5_login"] == "123456"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # two writes of the same content never reuse a nonce
    sc.write_atomically(tmp_path / "t.enc", sc.encrypt(SECRETS, KEY))
    assert (tmp_path / "t.enc").read_bytes()[7:19] != blob[7:19]


def _v1(tmp_path: Path) -> Path:
    path = tmp_path / "v1.enc"
    sc.create(path, KEY, SECRETS)
    return path


@pytest.mark.parametrize("offset", [0, 6, 7, 12, 19, 25, -1, -16])
def test_any_changed_byte_of_a_v1_file_is_refused(tmp_path, offset):
    path = _v1(tmp_path)
    blob = bytearray(path.read_bytes())
    blob[offset] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(sc.SecureConfigError) as err:
        sc.SecureConfig(path, KEY)
    message = str(err.value)
    assert_clean(message)
    if offset in (0,):
        assert "not JSON" in message or "base64" in message or "bad padding" in message or "truncated" in message
    elif offset == 6:
        assert "format version 0" in message
    else:
        assert "wrong key, or the file was modified or cut" in message


@pytest.mark.parametrize("keep", [0, 5, 7, 18, 30, -1])
def test_a_truncated_v1_file_is_refused(tmp_path, keep):
    path = _v1(tmp_path)
    blob = path.read_bytes()
    path.write_bytes(blob[:keep] if keep >= 0 else blob[:keep])
    with pytest.raises(sc.SecureConfigError) as err:
        sc.SecureConfig(path, KEY)
    assert_clean(str(err.value))
    assert "truncated" in str(err.value) or "modified or cut" in str(err.value)


def test_wrong_key_v1_and_seed(tmp_path):
    other = bytes(32)
    with pytest.raises(sc.SecureConfigError, match="wrong key, or the file was modified or cut"):
        sc.SecureConfig(_v1(tmp_path), other)
    with pytest.raises(sc.SecureConfigError) as err:
        sc.SecureConfig(seed_file(tmp_path / "seed.enc", SECRETS), other)
    assert "bad padding" in str(err.value) or "not JSON" in str(err.value)
    assert_clean(str(err.value))


def test_seed_format_damage_each_one_sentence(tmp_path):
    cases = {
        "truncated": (b"\x00" * 10, "truncated"),
        "not base64": (b"\x00" * 16 + b"%%%%", "no base64 text"),
        "partial block": (b"\x00" * 16 + base64.b64encode(b"x" * 20), "not whole 16-byte blocks"),
    }
    for name, (blob, expected) in cases.items():
        path = tmp_path / f"{name}.enc"
        path.write_bytes(blob)
        with pytest.raises(sc.SecureConfigError, match=expected):
            sc.SecureConfig(path, KEY)
    with pytest.raises(sc.SecureConfigError, match="not JSON"):
        sc.SecureConfig(seed_file(tmp_path / "nojson.enc", None, raw=b"motdepasse=1"), KEY)
    with pytest.raises(sc.SecureConfigError, match="not an object"):
        sc.SecureConfig(seed_file(tmp_path / "list.enc", ["motdepasse"]), KEY)
    with pytest.raises(sc.SecureConfigError, match="does not exist"):
        sc.SecureConfig(tmp_path / "absent.enc", KEY)


# -- the command ---------------------------------------------------------------------------------

def _cli(*args, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "CONFIG_AES_KEY": KEY_HEX, **(env or {})}
    return subprocess.run([sys.executable, "-m", "models_py.secure_config", *args], input=stdin, cwd=ROOT,
                          capture_output=True, text=True, env=full, timeout=60)


def test_command_create_set_list_unset_convert_rotate(tmp_path):
    f = tmp_path / "secrets.enc"
    assert _cli("create", str(f)).returncode == 0
    done = _cli("set", str(f), "KEY_TAAPI_IO", stdin="taapi-secret-value-42\n")
    assert done.returncode == 0 and "taapi-secret-value" not in done.stdout + done.stderr
    _cli("set", str(f), "MT5_API_KEY", stdin="motdepasse-mt5")
    done = _cli("list", str(f))
    assert done.stdout.split() == ["KEY_TAAPI_IO", "MT5_API_KEY"]
    assert sc.SecureConfig(f, KEY).get("KEY_TAAPI_IO") == "taapi-secret-value-42"
    assert _cli("unset", str(f), "MT5_API_KEY").returncode == 0
    assert _cli("list", str(f)).stdout.split() == ["KEY_TAAPI_IO"]
    # convert a seed file
    seed = seed_file(tmp_path / "seed.enc", SECRETS)
    done = _cli("convert", str(seed), str(tmp_path / "new.enc"))
    assert done.returncode == 0, done.stderr
    new = sc.SecureConfig(tmp_path / "new.enc", KEY)
    assert new.format == "tsquant-v1" and new.get("mt5_password") == SECRETS["mt5_password"]
    # rotate: the old key stops working, the new one works
    new_key = sc.generate_key()
    done = _cli("rotate", str(f), env={"CONFIG_AES_KEY_NEW": new_key})
    assert done.returncode == 0 and new_key not in done.stdout + done.stderr
    with pytest.raises(sc.SecureConfigError):
        sc.SecureConfig(f, KEY)
    assert sc.SecureConfig(f, new_key).get("KEY_TAAPI_IO") == "taapi-secret-value-42"
    # errors: exit 2, one line, no secret
    done = _cli("list", str(f))  # old key
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert_clean(done.stderr)
    done = _cli("list", str(f), env={"CONFIG_AES_KEY": "too-short"})
    assert done.returncode == 2 and "too-short" not in done.stderr and "32-byte" in done.stderr
    done = _cli("rotate", str(f), env={"CONFIG_AES_KEY": new_key})
    assert done.returncode == 2 and "CONFIG_AES_KEY_NEW" in done.stderr


# -- the loaders read secrets from the file --------------------------------------------------------

def test_environment_takes_secrets_from_the_file_when_named(tmp_path):
    f = tmp_path / "s.enc"
    sc.create(f, KEY, {"KEY_TAAPI_IO": "from-file", "MT5_API_KEY": "mt5-from-file", "BINANCE_API_KEY": "b"})
    env = Environment.from_os({"TSQ_SECRETS_FILE": str(f), "CONFIG_AES_KEY": KEY_HEX, "KEY_TAAPI_IO": "from-env",
                               "DRY_RUN": "1"})
    assert env.taapi_key == "from-file" and env.mt5_key == "mt5-from-file" and env.dry_run
    assert env.secret("BINANCE_API_KEY") == "b"
    plain = Environment.from_os({"KEY_TAAPI_IO": "from-env"})
    assert plain.taapi_key == "from-env"
    with pytest.raises(ConfigError) as err:
        Environment.from_os({"TSQ_SECRETS_FILE": str(f), "CONFIG_AES_KEY": "0" * 64})
    assert "wrong key" in str(err.value)


def test_taapi_loader_uses_the_key_from_the_secrets_file(db_url, tmp_path, monkeypatch):
    from loaders.fakes.taapi import make_taapi
    from tests.loaders.helpers import run_cli

    f = tmp_path / "s.enc"
    sc.create(f, KEY, {"KEY_TAAPI_IO": "file-only-key"})
    monkeypatch.delenv("KEY_TAAPI_IO", raising=False)
    monkeypatch.delenv("DRY_RUN", raising=False)
    monkeypatch.setenv("TSQ_SECRETS_FILE", str(f))
    monkeypatch.setenv("CONFIG_AES_KEY", KEY_HEX)
    with make_taapi(secret="file-only-key") as srv:
        rc = run_cli("taapi", "--interval", "1h", "--base-url", srv.url, "--url", db_url, "--quiet")
        assert rc == 0
        assert srv.requests
