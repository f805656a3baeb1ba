"""The proxy's TLS certificate: a self-signed RSA certificate for localhost, made at start with
``cryptography`` and written to a private temporary directory (uvicorn needs files)."""

from __future__ import annotations

import atexit
import datetime as dt
import ipaddress
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def self_signed(directory: str | None = None, common_name: str = "localhost") -> tuple[str, str]:
    """Write a fresh self-signed certificate and key; return (certfile, keyfile) paths.

    The validity window uses the real time (TLS clients check it against the wall clock, not ours).
    """
    where = Path(directory or tempfile.mkdtemp(prefix="kongformance-gateway-tls-"))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(common_name),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile = where / "proxy.crt"
    keyfile = where / "proxy.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return str(certfile), str(keyfile)


@lru_cache(maxsize=1)
def shared_self_signed() -> tuple[str, str]:
    """One self-signed certificate per process (key generation is the slow part), removed at exit."""
    certfile, keyfile = self_signed()
    atexit.register(shutil.rmtree, str(Path(certfile).parent), True)
    return certfile, keyfile
