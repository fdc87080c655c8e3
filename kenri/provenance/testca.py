"""A self-made test PKI for offline C2PA signing: a root CA and one ES256 signing certificate.

For the demo and the tests only: real deployments point kenri at their own certificate chain
and key, or at a signing callback backed by a KMS/HSM (see ``manifests.Signing``).

The signing certificate has the profile c2pa-rs accepts (checked against c2pa-python 0.38):
P-256 key, CA=false, keyUsage digitalSignature, extendedKeyUsage emailProtection (plus
documentSigning), subject and authority key identifiers, issued by (not equal to) the root.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # RFC 9336


@dataclass(frozen=True)
class CertificateFiles:
    chain: Path  # signing certificate, then its issuer(s), PEM
    key: Path  # the signing certificate's private key, PKCS#8 PEM
    root: Path  # the trust anchor readers must be given, PEM

    @classmethod
    def under(cls, folder: Path) -> CertificateFiles:
        return cls(folder / "chain.pem", folder / "signer_key.pem", folder / "root_ca.pem")


def make_test_ca(folder: str | os.PathLike[str], days: int = 3650) -> CertificateFiles:
    """Create a root CA and a signing certificate in ``folder`` (the key file is mode 0600).

    Without a timestamp authority a file's signature is checked against the certificate's
    validity at read time, so test certificates are long-lived."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    root_cert, root_key = _root(days)
    leaf_cert, leaf_key = _leaf(root_cert, root_key, days)
    files = CertificateFiles.under(folder)
    files.chain.write_bytes(_pem(leaf_cert) + _pem(root_cert))
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_pem)
    files.root.write_bytes(_pem(root_cert))
    return files


def ensure_test_ca(folder: Path) -> CertificateFiles:
    """The test CA in ``folder``, made on first use."""
    files = CertificateFiles.under(folder)
    if files.chain.exists() and files.key.exists() and files.root.exists():
        return files
    return make_test_ca(folder)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kenri test"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])  # fmt: skip


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _usage(sign: bool, certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=certs, crl_sign=certs,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip


def _root(days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = _name("kenri test root CA")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(sign=False, certs=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    root: x509.Certificate, root_key: ec.EllipticCurvePrivateKey, days: int
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kenri test signer"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, certs=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return cert, key
