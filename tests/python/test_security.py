"""Authentication, permissions and TLS as Confluent's client and a Karapace auth file see them.

Why this file exists: ``--auth-file`` promises that a Karapace ``registry_authfile`` works here
unchanged, and ``--tls-cert``/``--tls-client-ca`` that clients reach the registry over HTTPS
and mutual TLS. Rust tests cover the pieces; these tests drive the real ``schemata serve``
binary (a subprocess on a free loopback port, a temporary data directory) from the outside:

* the auth file is written here with Karapace's hashing rules implemented with ``hashlib``
  (``karapace_hash``: salt used as its UTF-8 text, scrypt n=16384 r=8 p=1 64 bytes, PBKDF2-HMAC
  5000 rounds for sha1/sha256/sha512, standard base64), one user per algorithm, plus one user
  made by ``schemata passwd``;
* ``confluent_kafka.schema_registry.SchemaRegistryClient`` talks to the server over HTTPS with
  ``basic.auth.user.info`` and ``ssl.ca.location``, and over mutual TLS with
  ``ssl.certificate.location``/``ssl.key.location`` (the certificate's CN is the principal);
* the permissions follow Karapace (``re.match`` anchoring, Write implies Read, listings
  filtered, 401/403 in Confluent's error shape), the file is re-read when it changes and a
  broken file keeps the previous rules, and ``/metrics`` counts the failures.

The certificates (a CA, a server certificate for 127.0.0.1, client certificates, and a
certificate from a CA the server does not trust) are made with the ``cryptography`` package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from ipaddress import IPv4Address
from pathlib import Path
from typing import Iterator, Sequence

import pytest
import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

# `cryptography` comes with Authlib, which confluent-kafka[schemaregistry] requires.
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import free_port, log_tail, server_binary, stop, wait_until_ready

RELOAD_DEADLINE = 10.0  # the server re-reads the auth file within ~1 s
LOG_DEADLINE = 5.0

# Passwords distinctive enough that finding one in the server log would mean a leak.
PASSWORDS = {
    "admin": "adm1n-S3cret-scrypt",
    "reader": "r3ader-S3cret-sha1",
    "ops": "0ps-S3cret-sha256",
    "auditor": "pässwörd-S3cret-sha512",  # non-ASCII: hashed as UTF-8
    "cli": "cl1-S3cret-passwd",
    "decoy": "d3coy-S3cret-sha256",
}
ALGORITHMS = {"admin": "scrypt", "reader": "sha1", "ops": "sha256", "auditor": "sha512"}
# Karapace's permission entries; resources are Python `re.match` patterns.
PERMISSIONS = [
    {"username": "admin", "operation": "Write", "resource": ".*"},
    {"username": "reader", "operation": "Read", "resource": r"Subject:general\..*"},
    {"username": "ops", "operation": "Read", "resource": "Config:"},
    # Anchored at the start only: also grants Subject:other.y.
    {"username": "auditor", "operation": "Read", "resource": "Subject:other"},
    # Write implies Read.
    {"username": "cli", "operation": "Write", "resource": r"Subject:cli\."},
]
UNAUTHORIZED = {"error_code": 401, "message": "Unauthorized"}


def avro(name: str, extra_fields: Sequence[dict] = ()) -> Schema:
    fields = [{"name": "id", "type": "long"}, *extra_fields]
    return Schema(json.dumps({"type": "record", "name": name, "namespace": "sec", "fields": fields}), "AVRO")


GENERAL_X = avro("GeneralX")
GENERAL_X_V2 = avro("GeneralX", [{"name": "note", "type": ["null", "string"], "default": None}])
OTHER_Y = avro("OtherY")
SHARED = avro("Shared")
CLI_Z = avro("CliZ")


# --------------------------------------------------------------------------
# Karapace's auth file, written by hand


def karapace_hash(algorithm: str, password: str, salt: str) -> str:
    """``password_hash`` as Karapace's ``hash_password`` computes it: the salt string's UTF-8
    bytes are the salt (never base64-decoded), the key is standard padded base64."""
    if algorithm == "scrypt":
        key = hashlib.scrypt(bytearray(password, "utf-8"), salt=bytearray(salt, "utf-8"), n=16384, r=8, p=1)
    elif algorithm in ("sha1", "sha256", "sha512"):
        key = hashlib.pbkdf2_hmac(algorithm, bytearray(password, "UTF-8"), bytearray(salt, "UTF-8"), 5000)
    else:
        raise ValueError(algorithm)
    return base64.b64encode(key).decode("ascii")


def karapace_user(username: str, algorithm: str, password: str) -> dict:
    salt = secrets.token_urlsafe(nbytes=16)  # as Karapace's `create_user`
    return {"username": username, "algorithm": algorithm, "salt": salt,
            "password_hash": karapace_hash(algorithm, password, salt)}  # fmt: skip


def passwd_user(username: str, password: str) -> dict:
    """A user entry made by ``schemata passwd`` (default algorithm)."""
    run = subprocess.run(
        [str(server_binary()), "passwd", "--username", username, "--password", password],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def write_file(path: Path, text: str) -> None:
    """Replaces the file atomically, making sure its stamp (mtime, size) changes."""
    before = path.stat() if path.exists() else None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    after = path.stat()
    if before and (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size):
        os.utime(path, ns=(after.st_atime_ns, after.st_mtime_ns + 1_000_000_000))


def write_auth_file(path: Path, users: Sequence[dict], permissions: Sequence[dict]) -> None:
    write_file(path, json.dumps({"users": list(users), "permissions": list(permissions)}, indent=2))


@pytest.fixture(scope="module")
def users() -> list[dict]:
    made = [karapace_user(name, algorithm, PASSWORDS[name]) for name, algorithm in ALGORITHMS.items()]
    # A hash made with the salt base64-decoded ("c2FsdHlzYWx0" is base64 of "saltysalt"):
    # Karapace never decodes it, so this user cannot log in with its password.
    decoded = base64.b64encode(hashlib.pbkdf2_hmac("sha256", PASSWORDS["decoy"].encode(), b"saltysalt", 5000))
    made.append({"username": "decoy", "algorithm": "sha256", "salt": "c2FsdHlzYWx0", "password_hash": decoded.decode()})
    return made + [passwd_user("cli", PASSWORDS["cli"])]


# --------------------------------------------------------------------------
# Certificates


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    # CN -> (certificate, key) issued by `ca`
    clients: dict[str, tuple[Path, Path]]
    # A client certificate with CN "admin" from a CA the server does not trust.
    rogue: tuple[Path, Path]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(subject: str, key, issuer: str, issuer_key, *, ca: bool, extensions=()) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                 encipher_only=False, decipher_only=False)  # fmt: skip
    builder = builder.add_extension(
        x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, **usage), critical=True
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _save(directory: Path, stem: str, cert: x509.Certificate, key) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def make_pki(directory: Path) -> Pki:
    def new_key():
        return ec.generate_private_key(ec.SECP256R1())

    ca_key, rogue_key = new_key(), new_key()
    ca = _issue("Schemata Test CA", ca_key, "Schemata Test CA", ca_key, ca=True)
    rogue_ca = _issue("Rogue CA", rogue_key, "Rogue CA", rogue_key, ca=True)
    ca_path, _ = _save(directory, "ca", ca, ca_key)

    server_key = new_key()
    server = _issue("127.0.0.1", server_key, "Schemata Test CA", ca_key, ca=False, extensions=[
        x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
    ])  # fmt: skip
    server_cert, server_key_path = _save(directory, "server", server, server_key)

    client_auth = [x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])]
    clients = {}
    for cn in ("reader", "admin"):
        key = new_key()
        clients[cn] = _save(directory, f"client-{cn}", _issue(cn, key, "Schemata Test CA", ca_key, ca=False,
                                                              extensions=client_auth), key)  # fmt: skip
    key = new_key()
    rogue = _save(directory, "rogue-admin", _issue("admin", key, "Rogue CA", rogue_key, ca=False,
                                                   extensions=client_auth), key)  # fmt: skip
    return Pki(ca=ca_path, server_cert=server_cert, server_key=server_key_path, clients=clients, rogue=rogue)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


# --------------------------------------------------------------------------
# Servers


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    auth_file: Path
    ca: Path | None  # what clients verify the server with (None: plain HTTP)

    def log_tail(self, chars: int = 4000) -> str:
        return log_tail(self.log, chars)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self, user: str | None = None, password: str | None = None, **conf) -> SchemaRegistryClient:
        """A new Confluent client (no cache shared with earlier calls); no retries, so that a
        failure shows at once."""
        settings = {"url": self.url, "max.retries": 0, **conf}
        if self.ca:
            settings["ssl.ca.location"] = str(self.ca)
        if user is not None:
            settings["basic.auth.user.info"] = f"{user}:{PASSWORDS[user] if password is None else password}"
        return SchemaRegistryClient(settings)

    def get(self, path: str, auth: tuple[str, str] | None = None, headers: dict | None = None) -> requests.Response:
        """A plain GET; `auth` is sent as Basic with UTF-8 (as Confluent's clients encode it;
        `requests` itself would encode it as Latin-1)."""
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode("utf-8")).decode("ascii")
        return requests.get(self.url + path, headers=headers, verify=str(self.ca) if self.ca else True, timeout=10)


def server_env() -> dict[str, str]:
    """The environment without settings that would change the server (SCHEMATA_*, RUST_LOG)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATA_") and k != "RUST_LOG"}


@contextmanager
def schemata(
    workdir: Path,
    auth_file: Path,
    pki: Pki | None = None,
    client_ca: bool = False,
    extra_args: Sequence[str] = (),
) -> Iterator[Server]:
    """``schemata serve --auth-file`` (HTTPS with `pki`, requiring client certificates with
    `client_ca`), ready to serve; stopped on exit, its log tail printed if the body fails."""
    binary = server_binary()
    if not binary.is_file():
        pytest.fail(f"server binary {binary} not found: run `cargo build` or set SCHEMATA_BIN")
    port = free_port()
    url = f"{'https' if pki else 'http'}://127.0.0.1:{port}"
    command = [
        str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(workdir / "data"),
        "--auth-file", str(auth_file), "--workers", "2", *extra_args,
    ]  # fmt: skip
    context = None
    if pki:
        command += ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key)]
        context = ssl.create_default_context(cafile=str(pki.ca))
        if client_ca:
            command += ["--tls-client-ca", str(pki.ca)]
            context.load_cert_chain(*map(str, pki.clients["reader"]))
    log = workdir / "server.log"
    with log.open("ab") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=server_env())  # fmt: skip
    try:
        wait_until_ready(process, url, log, context)
        server = Server(url=url, process=process, log=log, auth_file=auth_file, ca=pki.ca if pki else None)
        try:
            yield server
        except BaseException:
            print(f"--- server log ({log}) ---\n{server.log_tail(6000)}")
            raise
    finally:
        stop(process)


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory, pki: Pki, users: list[dict]) -> Iterator[Server]:
    """HTTPS with the full auth file, and the subjects of the permission tests registered by
    the admin: general.x, other.y, cli.z is left to cli, and one schema under two subjects
    (general.shared, other.shared)."""
    workdir = tmp_path_factory.mktemp("https")
    auth_file = workdir / "auth.json"
    write_auth_file(auth_file, users, PERMISSIONS)
    with schemata(workdir, auth_file, pki) as server:
        admin = server.client("admin")
        for subject, schema in [("general.x", GENERAL_X), ("other.y", OTHER_Y),
                                ("general.shared", SHARED), ("other.shared", SHARED)]:  # fmt: skip
            admin.register_schema(subject, schema)
        yield server


def error_of(call, *args, **kwargs) -> SchemaRegistryError:
    with pytest.raises(SchemaRegistryError) as caught:
        call(*args, **kwargs)
    return caught.value


def assert_denied(error: SchemaRegistryError, user: str, operation: str, resource: str) -> None:
    assert (error.http_status_code, error.error_code) == (403, 40301), error
    assert error.error_message == f"User {user} is denied operation {operation} on {resource}", error


def assert_unauthorized(error: SchemaRegistryError) -> None:
    assert (error.http_status_code, error.error_code, error.error_message) == (401, 401, "Unauthorized"), error


def wait_for(condition, what: str, server: Server, deadline: float = RELOAD_DEADLINE):
    """Polls `condition` until it returns something truthy; fails with the server log after `deadline` s."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        try:
            result = condition()
            if result:
                return result
            last = result
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last = repr(e)
        time.sleep(0.1)
    pytest.fail(f"{what} not within {deadline}s (last: {last}):\n{server.log_tail()}")


def status_of(call, *args, **kwargs) -> int:
    """The HTTP status a client call ended with (200 when it succeeded)."""
    try:
        call(*args, **kwargs)
    except SchemaRegistryError as e:
        return e.http_status_code
    return 200


def metric(server: Server, name: str, labels: str = "") -> float:
    """The value of one sample of /metrics (0 when absent); `labels` as printed, e.g. `reason="missing"`."""
    text = server.get("/metrics").text
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == wanted:
            return float(value)
    return 0.0


# --------------------------------------------------------------------------
# 1. Karapace-made users log in


@pytest.mark.parametrize("user", ["admin", "reader", "ops", "auditor", "cli"])
def test_every_algorithm_and_passwd_user_logs_in(https_server: Server, users: list[dict], user: str) -> None:
    entry = next(u for u in users if u["username"] == user)
    assert entry["algorithm"] == ALGORITHMS.get(user, "scrypt"), entry  # `schemata passwd` defaults to scrypt
    assert isinstance(https_server.client(user).get_subjects(), list)
    good = https_server.get("/subjects", auth=(user, PASSWORDS[user]))
    assert good.status_code == 200, good.text
    bad = https_server.get("/subjects", auth=(user, PASSWORDS[user] + "x"))
    assert (bad.status_code, bad.json()) == (401, UNAUTHORIZED)


def test_the_salt_is_text_not_base64(https_server: Server) -> None:
    answer = https_server.get("/subjects", auth=("decoy", PASSWORDS["decoy"]))
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_passwd_entry_is_a_karapace_hash() -> None:
    """What `schemata passwd` prints verifies with Karapace's rules, for every algorithm."""
    for algorithm in ("scrypt", "sha1", "sha256", "sha512"):
        run = subprocess.run(
            [str(server_binary()), "passwd", "--username", "u", "--algorithm", algorithm],
            input="pässwörd\n", capture_output=True, text=True, encoding="utf-8", timeout=30,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        entry = json.loads(run.stdout)
        assert set(entry) == {"username", "algorithm", "salt", "password_hash"}, entry
        assert (entry["username"], entry["algorithm"]) == ("u", algorithm)
        assert karapace_hash(algorithm, "pässwörd", entry["salt"]) == entry["password_hash"], entry


# --------------------------------------------------------------------------
# 2. Permissions through Confluent's client over HTTPS


def test_admin_writes_and_reader_reads_only_its_subjects(https_server: Server) -> None:
    reader = https_server.client("reader")
    latest = reader.get_latest_version("general.x")
    assert (latest.subject, latest.version) == ("general.x", 1)
    assert json.loads(latest.schema.schema_str) == json.loads(GENERAL_X.schema_str)

    assert_denied(error_of(reader.register_schema, "general.x", GENERAL_X_V2), "reader", "Write", "Subject:general.x")
    assert_denied(error_of(https_server.client("reader").get_latest_version, "other.y"),
                  "reader", "Read", "Subject:other.y")  # fmt: skip
    assert_denied(error_of(https_server.client("reader").delete_subject, "general.x"),
                  "reader", "Write", "Subject:general.x")  # fmt: skip
    assert sorted(https_server.client("reader").get_subjects()) == ["general.shared", "general.x"]
    # The admin sees everything; the rejected write changed nothing.
    admin = https_server.client("admin")
    assert {"general.shared", "general.x", "other.shared", "other.y"} <= set(admin.get_subjects())
    assert admin.get_versions("general.x") == [1]


def test_lookups_checks_and_listings_follow_read(https_server: Server) -> None:
    """Lookups and compatibility checks read (as in Karapace); the permission is checked before
    existence, so an unreadable subject is 403 whether or not it exists."""
    reader = https_server.client("reader")
    assert reader.lookup_schema("general.x", GENERAL_X).version == 1
    assert reader.test_compatibility("general.x", GENERAL_X_V2) is True
    assert_denied(error_of(https_server.client("reader").lookup_schema, "other.y", OTHER_Y),
                  "reader", "Read", "Subject:other.y")  # fmt: skip
    assert_denied(error_of(https_server.client("reader").test_compatibility, "other.y", OTHER_Y),
                  "reader", "Read", "Subject:other.y")  # fmt: skip
    missing = error_of(https_server.client("reader").get_latest_version, "general.nope")
    assert (missing.http_status_code, missing.error_code) == (404, 40401), missing
    assert_denied(error_of(https_server.client("reader").get_latest_version, "other.nope"),
                  "reader", "Read", "Subject:other.nope")  # fmt: skip
    unknown_id = error_of(https_server.client("reader").get_schema, 999999)
    assert (unknown_id.http_status_code, unknown_id.error_code) == (404, 40403), unknown_id

    schemas = https_server.get("/schemas", auth=("reader", PASSWORDS["reader"]))
    assert schemas.status_code == 200, schemas.text
    assert sorted(s["subject"] for s in schemas.json()) == ["general.shared", "general.x"]
    schemas = https_server.get("/schemas", auth=("admin", PASSWORDS["admin"]))
    assert {"other.y", "other.shared"} <= {s["subject"] for s in schemas.json()}


@pytest.mark.parametrize("path", [
    "//subjects/other.y/versions/latest",
    "/subjects//other.y/versions/latest",
    "/subjects/other.y/versions/latest/",
    "/./subjects/other.y/versions",
    "/subjects/other%2Ey/versions/latest",
    "/subjects/other%2ey/versions/1/schema",
    "/contexts/%2E/subjects/other.y/versions",
    "/config/other.y",
    "/mode/other.y",
])  # fmt: skip
def test_path_variants_do_not_bypass_permissions(https_server: Server, path: str) -> None:
    """Spellings of an unreadable subject's path resolve to the subject the handler serves."""
    answer = https_server.get(path, auth=("reader", PASSWORDS["reader"]))
    assert answer.status_code == 403, (answer.status_code, answer.text[:300])
    assert answer.json() == {"error_code": 40301, "message": "User reader is denied operation Read on Subject:other.y"}


def test_schema_ids_need_a_readable_subject(https_server: Server) -> None:
    admin = https_server.client("admin")
    general_id = admin.get_latest_version("general.x").schema_id
    other_id = admin.get_latest_version("other.y").schema_id
    shared_id = admin.get_latest_version("general.shared").schema_id
    assert len({general_id, other_id, shared_id}) == 3

    by_id = https_server.client("reader").get_schema(general_id)
    assert json.loads(by_id.schema_str) == json.loads(GENERAL_X.schema_str)
    error = error_of(https_server.client("reader").get_schema, other_id)
    assert (error.http_status_code, error.error_code) == (403, 40301), error
    assert error.error_message.startswith("User reader is denied operation Read on "), error
    # A schema under a readable and an unreadable subject: readable, its subjects filtered.
    assert https_server.client("reader").get_schema(shared_id).schema_str
    subjects = https_server.get(f"/schemas/ids/{shared_id}/subjects", auth=("reader", PASSWORDS["reader"]))
    assert (subjects.status_code, subjects.json()) == (200, ["general.shared"])
    subjects = https_server.get(f"/schemas/ids/{shared_id}/subjects", auth=("admin", PASSWORDS["admin"]))
    assert (subjects.status_code, sorted(subjects.json())) == (200, ["general.shared", "other.shared"])

    # By GUID likewise (the admin's idempotent re-registration tells the GUIDs).
    general_guid = admin.register_schema_full_response("general.x", GENERAL_X).guid
    other_guid = admin.register_schema_full_response("other.y", OTHER_Y).guid
    assert general_guid and other_guid, (general_guid, other_guid)
    by_guid = https_server.client("reader").get_schema_by_guid(general_guid)
    assert json.loads(by_guid.schema_str) == json.loads(GENERAL_X.schema_str)
    error = error_of(https_server.client("reader").get_schema_by_guid, other_guid)
    assert (error.http_status_code, error.error_code) == (403, 40301), error


def test_karapace_regex_and_operation_semantics(https_server: Server) -> None:
    # `Subject:other` is matched as Python's re.match: a prefix, so other.y and other.shared.
    auditor = https_server.client("auditor")
    assert sorted(auditor.get_subjects()) == ["other.shared", "other.y"]
    assert https_server.client("auditor").get_latest_version("other.y").version == 1
    assert_denied(error_of(https_server.client("auditor").get_latest_version, "general.x"),
                  "auditor", "Read", "Subject:general.x")  # fmt: skip

    # Only `Config:` for ops: global config readable, not writable, no subject visible.
    ops = https_server.client("ops")
    assert ops.get_compatibility() == "BACKWARD"
    assert_denied(error_of(ops.set_compatibility, level="FULL"), "ops", "Write", "Config:")
    assert ops.get_subjects() == []
    # And the reader has no `Config:` permission.
    assert_denied(error_of(https_server.client("reader").get_compatibility), "reader", "Read", "Config:")

    # The `schemata passwd` user: Write on `Subject:cli\.` implies Read there, nothing elsewhere.
    cli = https_server.client("cli")
    schema_id = cli.register_schema("cli.z", CLI_Z)
    assert https_server.client("cli").get_latest_version("cli.z").schema_id == schema_id
    assert https_server.client("cli").get_subjects() == ["cli.z"]
    assert_denied(error_of(https_server.client("cli").register_schema, "general.x", GENERAL_X_V2),
                  "cli", "Write", "Subject:general.x")  # fmt: skip


def test_missing_or_wrong_credentials_are_401(https_server: Server) -> None:
    assert_unauthorized(error_of(https_server.client().get_subjects))
    assert_unauthorized(error_of(https_server.client().get_latest_version, "general.x"))
    assert_unauthorized(error_of(https_server.client("admin", "wrong").get_subjects))
    assert_unauthorized(error_of(https_server.client("admin", "wrong").register_schema, "general.x", GENERAL_X_V2))

    # Same answer for an unknown user as for a wrong password: nothing tells whether a user exists.
    answers = [
        https_server.get("/subjects"),
        https_server.get("/subjects", auth=("admin", "wrong")),
        https_server.get("/subjects", auth=("nobody", "wrong")),
        https_server.get("/subjects", headers={"Authorization": "Basic !!!not-base64"}),
    ]
    for answer in answers:
        assert answer.status_code == 401, answer.text
        assert answer.json() == UNAUTHORIZED
        assert answer.headers["WWW-Authenticate"].startswith('Basic realm="schemata"'), answer.headers
    wrong, unknown = answers[1], answers[2]
    assert wrong.content == unknown.content
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]
    assert wrong.headers["Content-Type"] == unknown.headers["Content-Type"]


def test_writes_are_audited_without_credentials(https_server: Server) -> None:
    https_server.client("admin").register_schema("audited.z", avro("Audited"))
    line = wait_for(
        lambda: next((l for l in https_server.log_text().splitlines()
                      if "schemata::audit" in l and "audited.z" in l), None),
        "an audit line for the write", https_server, LOG_DEADLINE,
    )  # fmt: skip
    assert "principal=admin" in line, line
    assert "status=200" in line, line
    text = https_server.log_text()
    for password in PASSWORDS.values():
        assert password not in text
    assert base64.b64encode(f"admin:{PASSWORDS['admin']}".encode()).decode() not in text


# --------------------------------------------------------------------------
# 5. Metrics and probes


def test_metrics_count_failures_and_probes_stay_open(https_server: Server) -> None:
    failures = "schemata_auth_failures_total"
    reasons = ("missing", "bad_password", "malformed")
    before = {reason: metric(https_server, failures, f'reason="{reason}"') for reason in reasons}
    denied_before = metric(https_server, "schemata_auth_denied_total")

    assert https_server.get("/subjects").status_code == 401
    assert https_server.get("/subjects").status_code == 401
    assert https_server.get("/subjects", auth=("admin", "wrong")).status_code == 401
    assert https_server.get("/config", auth=("nobody", "wrong")).status_code == 401
    assert https_server.get("/subjects", headers={"Authorization": "Token abc"}).status_code == 401
    assert https_server.get("/subjects/other.y/versions", auth=("reader", PASSWORDS["reader"])).status_code == 403

    after = {reason: metric(https_server, failures, f'reason="{reason}"') for reason in before}
    assert {r: after[r] - before[r] for r in before} == {"missing": 2, "bad_password": 2, "malformed": 1}
    assert metric(https_server, "schemata_auth_denied_total") - denied_before == 1

    # Open without credentials: the probes, the API description and (without --metrics-auth) /metrics.
    for path in ("/health/ready", "/health/live", "/openapi.yaml", "/metrics"):
        answer = https_server.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])


def test_metrics_auth_protects_metrics_only(tmp_path: Path, users: list[dict]) -> None:
    auth_file = tmp_path / "auth.json"
    write_auth_file(auth_file, users, PERMISSIONS)
    with schemata(tmp_path, auth_file, extra_args=["--metrics-auth"]) as server:
        answer = server.get("/metrics")
        assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)
        # Any authenticated caller may read it, whatever its permissions.
        answer = server.get("/metrics", auth=("ops", PASSWORDS["ops"]))
        assert answer.status_code == 200 and "schemata_auth_failures_total" in answer.text, answer.text[:300]
        assert server.get("/health/ready").status_code == 200
        assert server.get("/health/live").status_code == 200


# --------------------------------------------------------------------------
# 3. Mutual TLS


def test_client_certificate_cn_is_the_principal(tmp_path: Path, pki: Pki, users: list[dict]) -> None:
    auth_file = tmp_path / "auth.json"
    write_auth_file(auth_file, users, PERMISSIONS)
    with schemata(tmp_path, auth_file, pki, client_ca=True) as server:

        def with_cert(cn: str) -> SchemaRegistryClient:
            cert, key = pki.clients[cn]
            return server.client(**{"ssl.certificate.location": str(cert), "ssl.key.location": str(key)})

        # No password anywhere: the certificates' CNs are the users.
        schema_id = with_cert("admin").register_schema("general.x", GENERAL_X)
        with_cert("admin").register_schema("other.y", OTHER_Y)
        latest = with_cert("reader").get_latest_version("general.x")
        assert (latest.subject, latest.version, latest.schema_id) == ("general.x", 1, schema_id)
        assert with_cert("reader").get_subjects() == ["general.x"]
        assert_denied(error_of(with_cert("reader").register_schema, "general.x", GENERAL_X_V2),
                      "reader", "Write", "Subject:general.x")  # fmt: skip
        assert_denied(error_of(with_cert("reader").get_latest_version, "other.y"), "reader", "Read", "Subject:other.y")

        # Without a client certificate, or with one from another CA, no TLS session: no HTTP answer at all.
        rogue = {"ssl.certificate.location": str(pki.rogue[0]), "ssl.key.location": str(pki.rogue[1])}
        for conf, cert, alert in [({}, None, "certificate required"), (rogue, pki.rogue, "unknown ca")]:
            with pytest.raises(Exception) as caught:
                server.client(**conf).get_subjects()
            assert not isinstance(caught.value, SchemaRegistryError), caught.value
            assert alert in str(caught.value).lower(), repr(caught.value)
            assert alert in tls_refusal(server, cert).lower()
        assert with_cert("admin").get_versions("general.x") == [1], "the server still serves after refusals"


def tls_refusal(server: Server, cert: tuple[Path, Path] | None) -> str:
    """The TLS alert with which the server refuses a connection (with TLS 1.3 the client
    learns that its certificate was refused at its first read, not in the handshake)."""
    context = ssl.create_default_context(cafile=str(server.ca))
    if cert:
        context.load_cert_chain(*map(str, cert))
    host, port = server.url.removeprefix("https://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                tls.sendall(b"GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                data = tls.recv(4096)
    except ssl.SSLError as e:
        return str(e)
    pytest.fail(f"the server answered without a valid client certificate: {data[:200]!r}")


# --------------------------------------------------------------------------
# 4. Reloading the auth file


def test_auth_file_reload_and_broken_file(tmp_path: Path, users: list[dict]) -> None:
    auth_file = tmp_path / "auth.json"
    write_auth_file(auth_file, users, PERMISSIONS)
    with schemata(tmp_path, auth_file) as server:
        server.client("admin").register_schema("general.x", GENERAL_X)
        assert_denied(error_of(server.client("reader").register_schema, "general.x", GENERAL_X_V2),
                      "reader", "Write", "Subject:general.x")  # fmt: skip

        # Grant the reader Write on its subjects.
        granted = [p for p in PERMISSIONS if p["username"] != "reader"]
        granted.append({"username": "reader", "operation": "Write", "resource": r"Subject:general\..*"})
        write_auth_file(auth_file, users, granted)
        started = time.monotonic()
        v2_id = wait_for(lambda: server.client("reader").register_schema("general.x", GENERAL_X_V2),
                         "the reader's Write after the reload", server)  # fmt: skip
        print(f"reload took effect after {time.monotonic() - started:.1f}s")
        assert server.client("admin").get_versions("general.x") == [1, 2]
        wait_for(lambda: "reloaded:" in server.log_text(), "the reload's log line", server, LOG_DEADLINE)

        # A broken file: logged, and the rules in force stay (the reader keeps Read and Write).
        write_file(auth_file, json.dumps({"users": users, "permissions": granted})[:-40])
        warning = wait_for(
            lambda: next((l for l in server.log_text().splitlines()
                          if "WARN" in l and "keeping the previous users and permissions" in l), None),
            "a warning about the broken file", server,
        )  # fmt: skip
        assert str(auth_file) in warning, warning
        assert server.client("reader").get_latest_version("general.x").schema_id == v2_id
        assert server.client("reader").register_schema("general.x", GENERAL_X_V2) == v2_id
        assert server.client("admin").get_subjects() == ["general.x"]

        # A good file again is picked up: the reader loses Write, then the account.
        write_auth_file(auth_file, users, PERMISSIONS)
        wait_for(lambda: status_of(server.client("reader").register_schema, "general.x", GENERAL_X_V2) == 403,
                 "the reader's Write revoked", server)  # fmt: skip
        assert server.client("reader").get_latest_version("general.x").version == 2
        write_auth_file(auth_file, [u for u in users if u["username"] != "reader"], PERMISSIONS)
        wait_for(lambda: status_of(server.client("reader").get_subjects) == 401,
                 "the reader's account removed (a cached login must not outlive it)", server)  # fmt: skip
        assert server.client("admin").get_versions("general.x") == [1, 2]
