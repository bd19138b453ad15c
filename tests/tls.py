"""A private certificate authority for the TLS tests, made with the openssl command line.

``make_pki(folder)`` writes a CA, a server certificate for 127.0.0.1 and localhost, and a
client certificate, all signed by that CA, plus a second CA that signed none of them
(for the "wrong CA" cases).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Pki:
    """The files of one test PKI."""

    ca: Path
    other_ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-subj", f"/CN=smartplace {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)


def _signed(folder: Path, name: str, extensions: str) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=folder)
    (folder / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-out", f"{name}.crt",
             "-extfile", f"{name}.ext", cwd=folder)


def make_pki(folder: Path) -> Pki:
    """A CA and certificates under ``folder`` (skips, or fails under CI, without openssl)."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("openssl is not installed (make servers installs it)")
        pytest.skip("openssl is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    _ca(folder, "ca")
    _ca(folder, "other-ca")
    _signed(folder, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                              "extendedKeyUsage=serverAuth\n")
    _signed(folder, "client", "extendedKeyUsage=clientAuth\n")
    for key in folder.glob("*.key"):
        key.chmod(0o600)
    return Pki(folder / "ca.crt", folder / "other-ca.crt", folder / "server.crt",
               folder / "server.key", folder / "client.crt", folder / "client.key")
