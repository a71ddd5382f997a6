"""Interop tests: Confluent's own Python client against a running Schemata server.

Why this file exists: the point of a Confluent-compatible registry is that
existing clients work unchanged. These tests use
``confluent_kafka.schema_registry.SchemaRegistryClient`` and the Avro
serializer/deserializer exactly as an application would (subject management,
compatibility, deletes, error codes, and the wire format ``0x00 + 4-byte id +
Avro body``) against the session server started by ``conftest.py``.

Reads go through a fresh client where the client's cache could otherwise hide
what the server answers. Every test uses its own subject prefix.
"""

from __future__ import annotations

import io
import json
import uuid

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

USER_V1 = {
    "type": "record",
    "name": "User",
    "namespace": "io.schemata.interop",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "emails", "type": {"type": "array", "items": "string"}},
        {"name": "nickname", "type": ["null", "string"], "default": None},
    ],
}
# Adds a field with a default: backward compatible with USER_V1.
USER_V2 = {**USER_V1, "fields": USER_V1["fields"] + [{"name": "score", "type": "long", "default": 7}]}
# Adds a field without a default: not backward compatible (v2 readers cannot read v1 data).
USER_BAD = {**USER_V1, "fields": USER_V1["fields"] + [{"name": "required", "type": "string"}]}
# Changes a field's type: incompatible in every direction.
USER_RETYPED = {**USER_V1, "fields": [{"name": "name", "type": "int"}] + USER_V1["fields"][1:]}

RECORD = {"name": "Ada", "age": 36, "emails": ["ada@example.org", "a@l.uk"], "nickname": None}


def avro(schema: dict) -> Schema:
    return Schema(json.dumps(schema), schema_type="AVRO")


@pytest.fixture
def client(registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_url})


@pytest.fixture
def fresh(registry_url: str):
    """Factory for new clients, so reads are not answered from a client cache."""
    return lambda: SchemaRegistryClient({"url": registry_url})


@pytest.fixture
def prefix(request) -> str:
    return f"interop-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"


def error_of(call, *args, **kwargs) -> SchemaRegistryError:
    with pytest.raises(SchemaRegistryError) as caught:
        call(*args, **kwargs)
    return caught.value


# --------------------------------------------------------------------------
# Subjects, versions, schemas


def test_register_and_read_back(client, fresh, prefix):
    subject = f"{prefix}-value"
    schema_id = client.register_schema(subject, avro(USER_V1))
    assert isinstance(schema_id, int) and schema_id > 0

    schema = fresh().get_schema(schema_id)
    assert schema.schema_type == "AVRO"
    assert json.loads(schema.schema_str) == USER_V1

    found = fresh().lookup_schema(subject, avro(USER_V1))
    assert (found.schema_id, found.subject, found.version) == (schema_id, subject, 1)

    latest = fresh().get_latest_version(subject)
    assert (latest.schema_id, latest.subject, latest.version) == (schema_id, subject, 1)
    assert json.loads(latest.schema.schema_str) == USER_V1

    first = fresh().get_version(subject, 1)
    assert (first.schema_id, first.version) == (schema_id, 1)

    assert fresh().get_versions(subject) == [1]
    assert subject in fresh().get_subjects()
    assert fresh().get_subjects(subject_prefix=prefix) == [subject]


def test_registering_the_same_schema_again_is_idempotent(fresh, prefix):
    subject = f"{prefix}-value"
    first = fresh().register_schema(subject, avro(USER_V1))
    again = fresh().register_schema(subject, avro(USER_V1))
    other_subject = fresh().register_schema(f"{prefix}-other", avro(USER_V1))
    assert again == first
    assert other_subject == first  # same schema text shares the id across subjects
    assert fresh().get_versions(subject) == [1]


def test_evolution_and_compatibility_checks(client, fresh, prefix):
    subject = f"{prefix}-value"
    v1_id = client.register_schema(subject, avro(USER_V1))

    assert fresh().test_compatibility(subject, avro(USER_V2)) is True
    assert fresh().test_compatibility(subject, avro(USER_BAD)) is False
    assert fresh().test_compatibility(subject, avro(USER_RETYPED), version=1) is False

    v2_id = client.register_schema(subject, avro(USER_V2))
    assert v2_id != v1_id
    assert fresh().get_versions(subject) == [1, 2]
    latest = fresh().get_latest_version(subject)
    assert (latest.version, latest.schema_id) == (2, v2_id)
    assert fresh().get_version(subject, 1).schema_id == v1_id

    rejected = error_of(fresh().register_schema, subject, avro(USER_BAD))
    assert (rejected.http_status_code, rejected.error_code) == (409, 409)
    assert fresh().get_versions(subject) == [1, 2]


def test_subject_compatibility_level_is_applied(client, fresh, prefix):
    subject = f"{prefix}-value"
    client.register_schema(subject, avro(USER_V1))

    assert client.set_compatibility(subject, "NONE") == {"compatibility": "NONE"}
    assert fresh().get_compatibility(subject) == "NONE"
    assert fresh().test_compatibility(subject, avro(USER_RETYPED)) is True

    assert client.set_compatibility(subject, "FORWARD") == {"compatibility": "FORWARD"}
    assert fresh().get_compatibility(subject) == "FORWARD"
    # Forward: old readers ignore an added field, so even one without a default is fine.
    assert fresh().test_compatibility(subject, avro(USER_BAD)) is True
    assert fresh().test_compatibility(subject, avro(USER_RETYPED)) is False


def test_subject_without_own_level_reports_40408(fresh, prefix):
    subject = f"{prefix}-value"
    fresh().register_schema(subject, avro(USER_V1))
    error = error_of(fresh().get_compatibility, subject)
    assert (error.http_status_code, error.error_code) == (404, 40408)


def test_delete_version_then_subject_soft_and_permanent(client, fresh, prefix):
    subject = f"{prefix}-value"
    client.register_schema(subject, avro(USER_V1))
    client.register_schema(subject, avro(USER_V2))

    assert fresh().delete_version(subject, 1) == 1
    assert fresh().get_versions(subject) == [2]
    assert fresh().get_versions(subject, deleted=True) == [1, 2]
    gone = error_of(fresh().get_version, subject, 1)
    assert (gone.http_status_code, gone.error_code) == (404, 40402)

    assert fresh().delete_subject(subject) == [2]
    assert subject not in fresh().get_subjects()
    assert subject in fresh().get_subjects(deleted=True)
    missing = error_of(fresh().get_versions, subject)
    assert (missing.http_status_code, missing.error_code) == (404, 40401)

    assert fresh().delete_subject(subject, permanent=True) == [1, 2]
    assert subject not in fresh().get_subjects(deleted=True)


def test_permanent_delete_needs_soft_delete_first(client, fresh, prefix):
    subject = f"{prefix}-value"
    client.register_schema(subject, avro(USER_V1))
    error = error_of(fresh().delete_subject, subject, permanent=True)
    assert (error.http_status_code, error.error_code) == (404, 40405)
    assert fresh().get_versions(subject) == [1]


def test_errors_carry_confluent_codes(client, fresh, prefix):
    unknown = f"{prefix}-nobody"
    error = error_of(fresh().get_latest_version, unknown)
    assert (error.http_status_code, error.error_code) == (404, 40401)
    assert error.error_message == f"Subject '{unknown}' not found."

    subject = f"{prefix}-value"
    client.register_schema(subject, avro(USER_V1))
    error = error_of(fresh().get_version, subject, 9)
    assert (error.http_status_code, error.error_code) == (404, 40402)

    error = error_of(fresh().get_schema, 2_000_000_000)
    assert (error.http_status_code, error.error_code) == (404, 40403)

    error = error_of(fresh().lookup_schema, subject, avro(USER_V2))
    assert (error.http_status_code, error.error_code) == (404, 40403)

    error = error_of(fresh().register_schema, subject, Schema('{"type": "nope"}', schema_type="AVRO"))
    assert (error.http_status_code, error.error_code) == (422, 42201)


# --------------------------------------------------------------------------
# Serializer / deserializer round trips


def split_frame(data: bytes) -> tuple[int, int, bytes]:
    """(magic byte, big-endian schema id, Avro payload) of a Confluent-framed message."""
    return data[0], int.from_bytes(data[1:5], "big"), data[5:]


def avro_decode(payload: bytes, schema: dict) -> dict:
    return fastavro.schemaless_reader(io.BytesIO(payload), fastavro.parse_schema(schema))


def test_serializer_auto_registers_and_round_trips(client, fresh, prefix):
    topic = prefix
    context = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(client, json.dumps(USER_V1), conf={"auto.register.schemas": True})

    data = serializer(RECORD, context)

    registered = fresh().get_latest_version(f"{topic}-value")
    magic, schema_id, payload = split_frame(data)
    assert (magic, schema_id) == (0, registered.schema_id)
    assert registered.version == 1
    assert avro_decode(payload, USER_V1) == RECORD

    deserializer = AvroDeserializer(fresh())
    assert deserializer(data, context) == RECORD


def test_serializer_uses_latest_registered_version(fresh, prefix):
    topic = prefix
    subject = f"{topic}-value"
    fresh().register_schema(subject, avro(USER_V1))
    v2_id = fresh().register_schema(subject, avro(USER_V2))
    context = SerializationContext(topic, MessageField.VALUE)
    conf = {"auto.register.schemas": False, "use.latest.version": True}
    serializer = AvroSerializer(fresh(), json.dumps(USER_V1), conf=conf)

    data = serializer(RECORD, context)

    magic, schema_id, payload = split_frame(data)
    assert (magic, schema_id) == (0, v2_id)
    expected = {**RECORD, "score": 7}  # written with v2, so the default is filled in
    assert avro_decode(payload, USER_V2) == expected
    assert AvroDeserializer(fresh())(data, context) == expected
    assert fresh().get_versions(subject) == [1, 2]  # nothing new registered


def test_serializer_without_auto_register_finds_existing_id(fresh, prefix):
    topic = prefix
    schema_id = fresh().register_schema(f"{topic}-value", avro(USER_V1))
    context = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(fresh(), json.dumps(USER_V1), conf={"auto.register.schemas": False})

    data = serializer(RECORD, context)

    assert split_frame(data)[:2] == (0, schema_id)
    assert AvroDeserializer(fresh(), json.dumps(USER_V1))(data, context) == RECORD
