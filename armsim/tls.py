# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""A self-signed certificate for 127.0.0.1 (rule W1), and a CA bundle that trusts it besides the usual roots."""
import datetime
import ipaddress
import os

CERT, KEY, BUNDLE = "cert.pem", "key.pem", "ca-bundle.pem"


def ensure_certificate(directory):
    """Create (once) the key, the certificate and the bundle in `directory`; return their paths."""
    cert, key, bundle = (os.path.join(directory, n) for n in (CERT, KEY, BUNDLE))
    if not (os.path.exists(cert) and os.path.exists(key)):
        _generate(cert, key)
    with open(bundle, "w") as out:
        out.write(_default_roots())
        with open(cert) as f:
            out.write("\n" + f.read())
    return cert, key, bundle


def _generate(cert_path, key_path):
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as e:
        raise SystemExit("armsim: cannot create a TLS certificate: the 'cryptography' package is missing "
                         "(it comes with azure-cli; run armsim with the project's virtual environment).") from e
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "armsim local ARM")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def _default_roots():
    try:
        import certifi
        with open(certifi.where()) as f:
            return f.read()
    except ImportError:
        return ""
