"""Interop tests: Confluent's Python JSON Schema serializer against a running Schemata server.

Why this file exists: JSON Schema subjects are used through Confluent's
``JSONSerializer``/``JSONDeserializer``. These tests drive them exactly as an application
would against the session server from ``conftest.py``: auto-registration, the wire format
``0x00 + 4-byte id + JSON``, validation of messages against the registered schema, a
reader that fetches the writer's schema by id, compatible and incompatible evolution, and
a schema that ``$ref``s another subject by reference name. Every test uses its own subject
prefix.
"""

from __future__ import annotations

import json
import struct
import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

ORDER_V1 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "item": {"type": "string", "maxLength": 20},
        "price": {"type": "number", "minimum": 0},
    },
    "required": ["id", "item"],
    "additionalProperties": False,
}
# Adds an optional property to a closed model: backward compatible.
ORDER_V2 = {**ORDER_V1, "properties": {**ORDER_V1["properties"], "note": {"type": "string"}}}
# Changes a property's type: incompatible.
ORDER_RETYPED = {**ORDER_V1, "properties": {**ORDER_V1["properties"], "id": {"type": "string"}}}

ORDER = {"id": 7, "item": "book", "price": 12.5}


def json_schema(schema: dict, references=None) -> Schema:
    return Schema(json.dumps(schema), schema_type="JSON", references=references or [])


@pytest.fixture
def client(registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_url})


@pytest.fixture
def topic() -> str:
    return f"interop-json-{uuid.uuid4().hex[:8]}"


def test_round_trip_with_auto_registration(client, registry_url, topic):
    serializer = JSONSerializer(json.dumps(ORDER_V1), client)
    ctx = SerializationContext(topic, MessageField.VALUE)
    payload = serializer(ORDER, ctx)

    magic, schema_id = struct.unpack(">bI", payload[:5])
    assert magic == 0
    registered = client.get_latest_version(f"{topic}-value")
    assert registered.schema_id == schema_id
    assert registered.schema.schema_type == "JSON"
    assert json.loads(payload[5:]) == ORDER

    # A reader with no schema of its own fetches the writer's schema by id.
    reader = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": registry_url}))
    assert reader(payload, ctx) == ORDER
    # A reader with the schema in hand validates against it.
    assert JSONDeserializer(json.dumps(ORDER_V1))(payload, ctx) == ORDER


def test_stored_text_is_compact_with_key_order_kept(client, registry_url, topic):
    text = '{ "type": "object",  "properties": { "b": {"type":"string"}, "a": {"type": "integer"} } }'
    schema_id = client.register_schema(f"{topic}-value", Schema(text, schema_type="JSON"))
    fetched = SchemaRegistryClient({"url": registry_url}).get_schema(schema_id)
    assert fetched.schema_str == '{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}'
    assert fetched.schema_type == "JSON"


def test_invalid_message_is_rejected_by_the_serializer(client, topic):
    serializer = JSONSerializer(json.dumps(ORDER_V1), client)
    ctx = SerializationContext(topic, MessageField.VALUE)
    with pytest.raises(SerializationError):
        serializer({"id": "seven", "item": "book"}, ctx)
    with pytest.raises(SerializationError):
        serializer({"id": 1, "item": "book", "unexpected": True}, ctx)


def test_evolution_follows_confluent_rules(client, topic):
    subject = f"{topic}-value"
    first = client.register_schema(subject, json_schema(ORDER_V1))
    assert client.test_compatibility(subject, json_schema(ORDER_V2)) is True
    second = client.register_schema(subject, json_schema(ORDER_V2))
    assert second != first
    assert client.test_compatibility(subject, json_schema(ORDER_RETYPED)) is False
    with pytest.raises(SchemaRegistryError) as err:
        client.register_schema(subject, json_schema(ORDER_RETYPED))
    assert err.value.http_status_code == 409
    assert err.value.error_code == 409

    # Data written with v1 reads with the v2 schema in hand.
    ctx = SerializationContext(topic, MessageField.VALUE)
    writer = JSONSerializer(json.dumps(ORDER_V1), client, conf={"auto.register.schemas": False})
    payload = writer(ORDER, ctx)
    assert JSONDeserializer(json.dumps(ORDER_V2))(payload, ctx) == ORDER


def test_invalid_schema_is_422(client, topic):
    with pytest.raises(SchemaRegistryError) as err:
        client.register_schema(f"{topic}-value", Schema('{"type": 12}', schema_type="JSON"))
    assert err.value.http_status_code == 422
    assert err.value.error_code == 42201


def test_reference_to_another_subject(client, registry_url, topic):
    address = {
        "type": "object",
        "properties": {"street": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
        "required": ["street"],
    }
    dep_subject = f"{topic}-address"
    client.register_schema(dep_subject, json_schema(address))
    customer = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "home": {"$ref": "address.json"}},
        "required": ["name", "home"],
    }
    refs = [SchemaReference("address.json", dep_subject, 1)]
    subject = f"{topic}-value"
    client.register_schema(subject, json_schema(customer, refs))

    latest = SchemaRegistryClient({"url": registry_url}).get_latest_version(subject)
    assert [(r.name, r.subject, r.version) for r in latest.schema.references] == [("address.json", dep_subject, 1)]

    conf = {"auto.register.schemas": False, "use.latest.version": True}
    serializer = JSONSerializer(latest.schema, client, conf=conf)
    ctx = SerializationContext(topic, MessageField.VALUE)
    value = {"name": "Ada", "home": {"street": "Main St", "zip": "12345"}}
    payload = serializer(value, ctx)
    reader = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": registry_url}))
    assert reader(payload, ctx) == value
    # The referenced schema's constraints apply through the $ref.
    with pytest.raises(SerializationError):
        serializer({"name": "Ada", "home": {"street": "Main St", "zip": "x"}}, ctx)
