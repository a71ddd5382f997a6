"""Interop tests: schemata-codec (through ``schemata encode`` / ``schemata decode``) against
Confluent's Python serializers and deserializers.

Why this file exists: a Rust service using schemata-codec must share topics with Python,
Java and Go services. Here Confluent's own ``AvroSerializer``, ``ProtobufSerializer`` (a
nested message, indexes other than ``[0]``) and ``JSONSerializer`` write records that the
codec decodes to the same values, and the codec writes records that ``AvroDeserializer``,
``ProtobufDeserializer`` and ``JSONDeserializer`` read back. For Avro and Protobuf the
codec's bytes must equal the Python serializer's for the same value and schema id.
Records framed by schema GUID (Confluent 8: magic byte 1 and the GUID, in a record header)
decode both ways too, the GUID being the MD5 of the registered schema as Confluent defines it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient, header_schema_id_serializer
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from conftest import server_binary
from google.protobuf import json_format
from test_interop_protobuf import build_classes, sample_order, shipment

AVRO_SCHEMA = {
    "type": "record",
    "name": "Payment",
    "namespace": "schemata.codec",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "count", "type": "int"},
        {"name": "at", "type": "long"},
        {"name": "ok", "type": "boolean"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["CARD", "CASH"]}},
        {
            "name": "payer",
            "type": {"type": "record", "name": "Payer", "fields": [{"name": "name", "type": "string"}]},
        },
    ],
}

AVRO_VALUES = [
    {
        "id": "p-1",
        "amount": 12.5,
        "count": -3,
        "at": 1_700_000_000_123,
        "ok": True,
        "note": "first",
        "tags": ["a", "b"],
        "attrs": {"k": 7},
        "kind": "CASH",
        "payer": {"name": "Ada"},
    },
    {
        "id": "p-2",
        "amount": 0.0,
        "count": 2**31 - 1,
        "at": -1,
        "ok": False,
        "note": None,
        "tags": [],
        "attrs": {},
        "kind": "CARD",
        "payer": {"name": ""},
    },
]

JSON_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "qty": {"type": "integer"}, "tags": {"type": "array"}},
    "required": ["id"],
}


def run(args: list[str], data: bytes, registry_url: str) -> subprocess.CompletedProcess:
    command = [str(server_binary()), args[0], "--registry", registry_url, *args[1:]]
    return subprocess.run(command, input=data, capture_output=True, timeout=30, check=False)


def codec_decode(registry_url: str, data: bytes, show_id: bool = False):
    done = run(["decode", "--show-id"] if show_id else ["decode"], data, registry_url)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def codec_encode(registry_url: str, value, *args: str) -> bytes:
    done = run(["encode", *args], json.dumps(value).encode(), registry_url)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture
def client(registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_url})


def test_avro_both_ways_with_identical_bytes(client, registry_url):
    topic = f"codec-avro-{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(client, json.dumps(AVRO_SCHEMA), conf={"auto.register.schemas": True})
    deserializer = AvroDeserializer(client)
    for value in AVRO_VALUES:
        python_bytes = serializer(value, ctx)
        schema_id = int.from_bytes(python_bytes[1:5], "big")
        assert codec_decode(registry_url, python_bytes) == value
        assert codec_decode(registry_url, python_bytes, show_id=True) == {"schemaId": schema_id, "value": value}

        codec_bytes = codec_encode(registry_url, value, "--subject", f"{topic}-value")
        assert codec_bytes == python_bytes
        assert codec_encode(registry_url, value, "--schema-id", str(schema_id)) == python_bytes
        assert deserializer(codec_bytes, ctx) == value


def test_protobuf_both_ways_with_identical_bytes_and_nested_indexes(client, registry_url):
    Order, Item, Shipment = build_classes(f"codec_{uuid.uuid4().hex}.proto")
    topic = f"codec-pb-{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(topic, MessageField.VALUE)
    cases = [
        (Order, "schemata.interop.Order", sample_order(Order, Item), [0]),
        (Shipment, "schemata.interop.Shipment", shipment(Shipment), [1]),
        (Item, "schemata.interop.Order.Item", Item(sku="Z-9", qty=42), [0, 0]),
    ]
    for cls, full_name, message, indexes in cases:
        python_bytes = ProtobufSerializer(cls, client, {"auto.register.schemas": True})(message, ctx)
        schema_id = int.from_bytes(python_bytes[1:5], "big")
        as_dict = json_format.MessageToDict(message)
        shown = codec_decode(registry_url, python_bytes, show_id=True)
        assert shown == {"schemaId": schema_id, "messageIndexes": indexes, "value": as_dict}

        codec_bytes = codec_encode(registry_url, as_dict, "--subject", f"{topic}-value", "--message", full_name)
        assert codec_bytes == python_bytes, (full_name, codec_bytes.hex(), python_bytes.hex())
        assert ProtobufDeserializer(cls, {})(codec_bytes, ctx) == message


def test_json_schema_both_ways(client, registry_url):
    topic = f"codec-json-{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(topic, MessageField.VALUE)
    value = {"id": "o-1", "qty": 3, "tags": ["x", "y"]}
    python_bytes = JSONSerializer(json.dumps(JSON_SCHEMA), client)(value, ctx)
    assert codec_decode(registry_url, python_bytes) == value

    codec_bytes = codec_encode(registry_url, value, "--subject", f"{topic}-value")
    assert codec_bytes[:5] == python_bytes[:5]
    assert JSONDeserializer(json.dumps(JSON_SCHEMA))(codec_bytes, ctx) == value
    assert JSONDeserializer(None, schema_registry_client=client)(codec_bytes, ctx) == value


def test_bad_bytes_and_unknown_ids_fail_with_one_line(registry_url):
    for data, expected in [(b"\x07xyz", b"unknown magic byte"), (b"\x00\x7f\xff\xff\xf0\x00", b"40403")]:
        done = run(["decode"], data, registry_url)
        assert done.returncode != 0
        assert done.stdout == b""
        assert expected in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_avro_framed_by_guid_in_a_header_both_ways(client, registry_url):
    topic = f"codec-guid-{uuid.uuid4().hex[:8]}"
    headers: list = []
    ctx = SerializationContext(topic, MessageField.VALUE, headers)
    conf = {"auto.register.schemas": True, "schema.id.serializer": header_schema_id_serializer}
    serializer = AvroSerializer(client, json.dumps(AVRO_SCHEMA), conf=conf)
    value = AVRO_VALUES[0]
    payload = serializer(value, ctx)
    [(name, framing)] = headers
    assert name == "__value_schema_id" and framing[0] == 1 and len(framing) == 17
    guid = uuid.UUID(bytes=framing[1:17])
    # The GUID is Confluent's MD5 of the registered (canonical) schema text.
    registered = SchemaRegistryClient({"url": registry_url}).get_latest_version(f"{topic}-value")
    assert guid.bytes == hashlib.md5(registered.schema.schema_str.encode()).digest()
    assert SchemaRegistryClient({"url": registry_url}).get_schema_by_guid(str(guid)).schema_str == (
        registered.schema.schema_str
    )

    # The codec reads the GUID framing (magic 1 + GUID, then the Avro body) and looks the
    # schema up by GUID; Confluent's deserializer reads the header and does the same.
    assert codec_decode(registry_url, framing + payload, show_id=True) == {"schemaGuid": str(guid), "value": value}
    fresh = SchemaRegistryClient({"url": registry_url})
    assert AvroDeserializer(fresh)(payload, SerializationContext(topic, MessageField.VALUE, headers)) == value
    # And what the codec writes with the id (no header) decodes to the same value.
    id_framed = codec_encode(registry_url, value, "--subject", f"{topic}-value")
    assert AvroDeserializer(fresh)(id_framed, SerializationContext(topic, MessageField.VALUE)) == value
