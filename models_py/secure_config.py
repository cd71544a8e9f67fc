"""Encrypted secrets file (seed 001 `SecureConfig`): exchange keys, the taapi key, the MT5 bridge
key, kept in one AES-256 encrypted JSON object whose key comes from `CONFIG_AES_KEY`.

    config = SecureConfig("/etc/tsquant/secrets.enc", os.environ["CONFIG_AES_KEY"])
    config.get("KEY_TAAPI_IO")

Formats read:
- **tsquant v1** (written by default): `b"TSQSEC"` ‖ version byte 1 ‖ 12-byte nonce ‖
  AES-256-GCM ciphertext ‖ 16-byte tag, the 7 header bytes authenticated as associated data.
  Any change to any byte, a wrong key or a cut file fails authentication.
- **seed 001** (read, and converted by `convert`): 16-byte IV followed by the base64 text of the
  AES-256-CBC/PKCS7 ciphertext. CBC has no integrity check: a wrong key shows as bad padding or
  as bytes that are not JSON, which is all that format can tell.

The key is exactly 32 bytes, given raw (32 characters), as 64 hex characters or as 44 base64
characters. Messages never contain the key, a value or decrypted text.

Command line (values are read from the terminal without echo, or from stdin; never from argv):

    python -m models_py.secure_config keygen                 # prints a new random key (hex)
    python -m models_py.secure_config create FILE            # an empty encrypted file
    python -m models_py.secure_config set FILE NAME          # add or change one value
    python -m models_py.secure_config unset FILE NAME
    python -m models_py.secure_config list FILE              # names only
    python -m models_py.secure_config convert SEED_FILE FILE # seed format -> tsquant v1
    python -m models_py.secure_config rotate FILE            # re-encrypt with CONFIG_AES_KEY_NEW
"""

from __future__ import annotations

import argparse
import base64
import binascii
import getpass
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "CONFIG_AES_KEY"
NEW_KEY_ENV = "CONFIG_AES_KEY_NEW"
SECRETS_FILE_ENV = "TSQ_SECRETS_FILE"
MAGIC = b"TSQSEC"
VERSION = 1
HEADER = MAGIC + bytes([VERSION])
NONCE_BYTES = 12
TAG_BYTES = 16
SEED_IV_BYTES = 16


class SecureConfigError(ValueError):
    """The key or the secrets file is unusable; the message is one sentence without secrets."""


# --------------------------------------------------------------------------------------------
# Keys

def parse_key(value: str | bytes | None, variable: str = KEY_ENV) -> bytes:
    """The 32-byte AES key from its raw, hex (64) or base64 (44) spelling."""
    if value is None or value == "" or value == b"":
        raise SecureConfigError(f"the encryption key is missing: set the environment variable {variable}")
    raw = value.encode() if isinstance(value, str) else bytes(value)
    text = raw.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            pass
    if len(text) == 44:
        try:
            decoded = base64.b64decode(text, validate=True)
            if len(decoded) == 32:
                return decoded
        except (binascii.Error, ValueError):
            pass
    if len(raw) == 32:
        return raw
    raise SecureConfigError(
        f"{variable} must be a 32-byte AES-256 key: 32 raw bytes, 64 hex characters or 44 base64"
        f" characters (it has {len(raw)} characters)"
    )


def generate_key() -> str:
    """A new random key, as 64 hex characters."""
    return secrets.token_bytes(32).hex()


# --------------------------------------------------------------------------------------------
# Formats

def encrypt(data: Mapping[str, Any], key: bytes) -> bytes:
    """tsquant v1 bytes of a JSON object."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plaintext = json.dumps(dict(data), sort_keys=True, separators=(",", ":")).encode()
    return HEADER + nonce + AESGCM(key).encrypt(nonce, plaintext, HEADER)


def encrypt_seed_format(data: Mapping[str, Any], key: bytes) -> bytes:
    """Seed 001's layout (16-byte IV + base64 of AES-256-CBC/PKCS7); for tests and migration."""
    iv = secrets.token_bytes(SEED_IV_BYTES)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(json.dumps(dict(data)).encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + base64.b64encode(enc.update(padded) + enc.finalize())


def file_format(blob: bytes) -> str:
    return "tsquant-v1" if blob.startswith(MAGIC) else "seed"


def decrypt(blob: bytes, key: bytes, where: str = "the secrets file") -> dict[str, Any]:
    """The JSON object inside either format."""
    if blob.startswith(MAGIC):
        plaintext = _decrypt_v1(blob, key, where)
    else:
        plaintext = _decrypt_seed(blob, key, where)
    try:
        data = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SecureConfigError(f"{where} decrypted to something that is not JSON (wrong key or not a secrets file)") from None
    if not isinstance(data, dict):
        raise SecureConfigError(f"{where} holds JSON that is not an object of named values")
    return data


def _decrypt_v1(blob: bytes, key: bytes, where: str) -> bytes:
    minimum = len(HEADER) + NONCE_BYTES + TAG_BYTES
    if len(blob) < minimum:
        raise SecureConfigError(f"{where} is truncated ({len(blob)} bytes; an encrypted file has at least {minimum})")
    version = blob[len(MAGIC)]
    if version != VERSION:
        raise SecureConfigError(f"{where} has format version {version}; this tsquant reads version {VERSION}")
    nonce = blob[len(HEADER):len(HEADER) + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[len(HEADER) + NONCE_BYTES:], HEADER)
    except InvalidTag:
        raise SecureConfigError(f"{where} cannot be decrypted: wrong key, or the file was modified or cut") from None


def _decrypt_seed(blob: bytes, key: bytes, where: str) -> bytes:
    if len(blob) <= SEED_IV_BYTES:
        raise SecureConfigError(f"{where} is truncated ({len(blob)} bytes; the seed format has a 16-byte IV and data)")
    iv, body = blob[:SEED_IV_BYTES], blob[SEED_IV_BYTES:].strip()
    try:
        ciphertext = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise SecureConfigError(f"{where} is not an encrypted secrets file (after the 16-byte IV it holds no base64 text)") from None
    if not ciphertext or len(ciphertext) % 16:
        raise SecureConfigError(f"{where} is truncated or damaged (its ciphertext is not whole 16-byte blocks)")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise SecureConfigError(f"{where} cannot be decrypted: wrong key or damaged data (bad padding)") from None


def write_atomically(path: Path, blob: bytes) -> None:
    """Replace `path` with `blob` (owner-only permissions) so a crash leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# The seed's API

class SecureConfig:
    """Secrets decrypted from `path` with `key` (raw/hex/base64 32 bytes)."""

    def __init__(self, path: str | Path, key: str | bytes) -> None:
        self.path = Path(path)
        self._key = parse_key(key)
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            raise SecureConfigError(f"secrets file {self.path} does not exist") from None
        except OSError as exc:
            raise SecureConfigError(f"secrets file {self.path} cannot be read ({exc.strerror})") from None
        self.format = file_format(blob)
        self._data = decrypt(blob, self._key, f"secrets file {self.path}")

    def get(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)

    def names(self) -> list[str]:
        return sorted(self._data)

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def __repr__(self) -> str:  # never the values
        return f"SecureConfig({str(self.path)!r}, {len(self._data)} names)"

    def as_strings(self) -> dict[str, str]:
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in self._data.items()}

    def set(self, name: str, value: Any) -> None:
        self._data[name] = value

    def unset(self, name: str) -> None:
        if name not in self._data:
            raise SecureConfigError(f"{self.path} has no value called {name}")
        del self._data[name]

    def save(self, key: str | bytes | None = None) -> None:
        """Write back in the tsquant v1 format (with `key` when rotating)."""
        if key is not None:
            self._key = parse_key(key, NEW_KEY_ENV)
        write_atomically(self.path, encrypt(self._data, self._key))
        self.format = "tsquant-v1"


def create(path: str | Path, key: str | bytes, data: Mapping[str, Any] | None = None) -> None:
    p = Path(path)
    if p.exists():
        raise SecureConfigError(f"{p} already exists: edit it with 'set', or remove it first")
    write_atomically(p, encrypt(dict(data or {}), parse_key(key)))


def secrets_from(environ: Mapping[str, str]) -> Mapping[str, str]:
    """Where secrets come from: the encrypted file named by TSQ_SECRETS_FILE (key from
    CONFIG_AES_KEY) when it is set, else the environment itself. Every tsquant component that
    needs a secret asks here (through loaders.core.config.Environment)."""
    path = environ.get(SECRETS_FILE_ENV, "").strip()
    if not path:
        return environ
    return SecureConfig(path, environ.get(KEY_ENV, "")).as_strings()


# --------------------------------------------------------------------------------------------
# Command line

def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        value = getpass.getpass(f"value of {name} (not echoed): ")
    else:
        value = sys.stdin.read().rstrip("\n")
    if not value:
        raise SecureConfigError(f"no value given for {name}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models_py.secure_config",
                                     description="Encrypted secrets file (key from CONFIG_AES_KEY).")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("keygen", help="print a new random 32-byte key as 64 hex characters")
    for name, what in (("create", "create an empty encrypted file"), ("list", "list the names (never the values)"),
                       ("rotate", "re-encrypt with the key in CONFIG_AES_KEY_NEW")):
        sub.add_parser(name, help=what).add_argument("file", type=Path)
    for name, what in (("set", "add or change a value (read from the terminal or stdin)"),
                       ("unset", "remove a value")):
        p = sub.add_parser(name, help=what)
        p.add_argument("file", type=Path)
        p.add_argument("name")
    c = sub.add_parser("convert", help="seed-format file -> tsquant v1 (authenticated)")
    c.add_argument("source", type=Path)
    c.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    env = os.environ
    try:
        if args.command == "keygen":
            print(generate_key())
        elif args.command == "create":
            create(args.file, env.get(KEY_ENV, ""))
            print(f"created {args.file} (empty, tsquant v1 format)")
        elif args.command == "list":
            for name in SecureConfig(args.file, env.get(KEY_ENV, "")).names():
                print(name)
        elif args.command == "set":
            cfg = SecureConfig(args.file, env.get(KEY_ENV, ""))
            cfg.set(args.name, _read_value(args.name))
            cfg.save()
            print(f"{args.name} saved in {args.file}")
        elif args.command == "unset":
            cfg = SecureConfig(args.file, env.get(KEY_ENV, ""))
            cfg.unset(args.name)
            cfg.save()
            print(f"{args.name} removed from {args.file}")
        elif args.command == "convert":
            cfg = SecureConfig(args.source, env.get(KEY_ENV, ""))
            if cfg.format != "seed":
                raise SecureConfigError(f"{args.source} is already in the tsquant v1 format")
            if args.target.exists():
                raise SecureConfigError(f"{args.target} already exists: choose a new file name")
            write_atomically(args.target, encrypt({n: cfg.get(n) for n in cfg.names()}, parse_key(env.get(KEY_ENV, ""))))
            print(f"converted {args.source} (seed format) to {args.target} (tsquant v1, {len(cfg.names())} names)")
        elif args.command == "rotate":
            cfg = SecureConfig(args.file, env.get(KEY_ENV, ""))
            cfg.save(key=parse_key(env.get(NEW_KEY_ENV, ""), NEW_KEY_ENV))
            print(f"{args.file} re-encrypted with the new key: set {KEY_ENV} to the value of {NEW_KEY_ENV}")
    except SecureConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
