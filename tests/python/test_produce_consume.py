"""Records through a real broker: the Rust ``produce`` and ``consume`` examples against
Confluent's Python ``SerializingProducer`` and ``DeserializingConsumer``.

Why this file exists: the codec is proven byte for byte against Confluent's serializers in
memory (test_interop_codec.py); here records go through a Kafka-protocol broker (tansu, from
``conftest.kafka_bootstrap``) with librdkafka on both sides, the way services share topics:

* Rust ``produce`` (typed records: a serde struct, a prost message, a serde JSON value) →
  Python ``DeserializingConsumer`` with Confluent's Avro, Protobuf and JSON deserializers;
* Python ``SerializingProducer`` → Rust ``consume``, with the schema id in the payload prefix
  and with the schema GUID in the ``__value_schema_id`` header (Confluent 8);
* evolution: Avro records written with version 1 read with version 2 as reader schema, and
  the other way, in one topic holding records of both versions.

Every case checks the values, their count (nothing lost or duplicated) and the schema id (or
GUID) each record names. The examples are built by ``cargo build --examples``;
``SCHEMATA_EXAMPLES`` names their directory (default ``target/debug/examples``).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from confluent_kafka import OFFSET_BEGINNING, Consumer, DeserializingConsumer, KafkaException, TopicPartition
from confluent_kafka import SerializingProducer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient, header_schema_id_serializer
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from conftest import REPO_ROOT
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

SCHEMAS = REPO_ROOT / "examples" / "schemas"
USER_V1 = (SCHEMAS / "user.avsc").read_text()
USER_V2 = (SCHEMAS / "user_v2.avsc").read_text()
USER_JSON_SCHEMA = (SCHEMAS / "user.schema.json").read_text()
COUNT = 25


def example(name: str) -> str:
    directory = Path(os.environ.get("SCHEMATA_EXAMPLES", REPO_ROOT / "target" / "debug" / "examples"))
    path = directory if directory.is_absolute() else REPO_ROOT / directory
    binary = path / name
    if not binary.is_file():
        pytest.fail(f"example binary {binary} not found: run `cargo build --examples` or set SCHEMATA_EXAMPLES")
    return str(binary)


def run_example(name: str, args: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    done = subprocess.run([example(name), *args], input=stdin.encode(), capture_output=True, timeout=120)
    return done


def produce(bootstrap: str, registry: str, topic: str, *args: str, stdin: str = "") -> None:
    done = run_example("produce", ["--bootstrap", bootstrap, "--registry", registry, "--topic", topic, *args], stdin)
    assert done.returncode == 0, done.stderr.decode()


def consume(bootstrap: str, registry: str, topic: str, count: int, *args: str) -> list[dict]:
    command = ["--bootstrap", bootstrap, "--registry", registry, "--topic", topic, "--max-records", str(count)]
    done = run_example("consume", [*command, *args])
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def new_topic(bootstrap: str, prefix: str) -> str:
    topic = f"{prefix}-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
        future.result(timeout=15)
    return topic


def read_topic(bootstrap: str, topic: str, expected: int, deserializer=None) -> list:
    """Every record of the topic's one partition: raw ``(value, headers)`` pairs, or the
    values a ``DeserializingConsumer`` with ``deserializer`` gives. tansu 0.6 reports a low
    high watermark (see test_kafka_interop.consume_all), so reading goes on until the
    partition has been quiet for a second after ``expected`` records: a duplicate shows."""
    settings = {"bootstrap.servers": bootstrap, "group.id": f"pc-{uuid.uuid4().hex}", "enable.auto.commit": False}
    if deserializer is None:
        consumer = Consumer(settings)
    else:
        consumer = DeserializingConsumer({**settings, "value.deserializer": deserializer})
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out: list = []
        deadline = time.monotonic() + 30
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                if len(out) >= expected and time.monotonic() - quiet_since > 1.0:
                    break
                continue
            if msg.error():
                raise KafkaException(msg.error())
            out.append(msg.value() if deserializer else (msg.value(), msg.headers()))
            quiet_since = time.monotonic()
        return out
    finally:
        consumer.close()


def latest(registry: str, subject: str) -> dict:
    reply = requests.get(f"{registry}/subjects/{subject}/versions/latest", timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def user_class():
    """``example.User`` of examples/schemas/user.proto, built without protoc."""
    T = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name=f"user_{uuid.uuid4().hex}.proto", package="example", syntax="proto3")
    user = fdp.message_type.add(name="User")
    for name, number, ftype in [("id", 1, T.TYPE_INT64), ("name", 2, T.TYPE_STRING)]:
        user.field.append(T(name=name, number=number, type=ftype, label=T.LABEL_OPTIONAL))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("example.User"))


def users(count: int = COUNT) -> list[dict]:
    return [{"id": i, "name": f"user-{i}"} for i in range(count)]


@pytest.fixture
def client(registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_url})


@pytest.mark.parametrize("fmt", ["avro", "protobuf", "json"])
def test_rust_typed_records_to_python_deserializing_consumer(kafka_bootstrap, registry_url, client, fmt):
    topic = new_topic(kafka_bootstrap, f"rust-to-py-{fmt}")
    produce(kafka_bootstrap, registry_url, topic, "--format", fmt, "--count", str(COUNT))

    registered = latest(registry_url, f"{topic}-value")
    raw = read_topic(kafka_bootstrap, topic, COUNT)
    assert len(raw) == COUNT
    prefix = b"\x00" + registered["id"].to_bytes(4, "big") + (b"\x00" if fmt == "protobuf" else b"")
    assert all(value.startswith(prefix) and not headers for value, headers in raw), raw[0]

    if fmt == "avro":
        deserializer = AvroDeserializer(client)
    elif fmt == "protobuf":
        deserializer = ProtobufDeserializer(user_class(), {})
    else:
        deserializer = JSONDeserializer(None, schema_registry_client=client)
    values = read_topic(kafka_bootstrap, topic, COUNT, deserializer)
    if fmt == "protobuf":
        values = [{"id": v.id, "name": v.name} for v in values]
    assert values == users()


SERIALIZERS = {
    "avro": lambda client, conf, _: AvroSerializer(client, USER_V1, conf=conf),
    "protobuf": lambda client, conf, cls: ProtobufSerializer(cls, client, conf),
    "json": lambda client, conf, _: JSONSerializer(USER_JSON_SCHEMA, client, conf=conf),
}


@pytest.mark.parametrize("framing", ["prefix", "header"])
@pytest.mark.parametrize("fmt", ["avro", "protobuf", "json"])
def test_python_serializing_producer_to_rust_consume(kafka_bootstrap, registry_url, client, fmt, framing):
    topic = new_topic(kafka_bootstrap, f"py-to-rust-{fmt}-{framing}")
    conf = {"auto.register.schemas": True}
    if framing == "header":
        conf["schema.id.serializer"] = header_schema_id_serializer
    cls = user_class()
    serializer = SERIALIZERS[fmt](client, conf, cls)
    producer = SerializingProducer({"bootstrap.servers": kafka_bootstrap, "value.serializer": serializer})
    values = users()
    if fmt == "protobuf":
        messages = [cls(id=v["id"], name=v["name"]) for v in values]
        # The proto3 JSON mapping: 64-bit integers as strings, default values left out.
        expected = [json_format.MessageToDict(m) for m in messages]
    else:
        messages, expected = values, values
    for message in messages:
        producer.produce(topic, value=message, headers=[])  # the header serializer appends to it
    assert producer.flush(15) == 0

    registered = latest(registry_url, f"{topic}-value")
    raw = read_topic(kafka_bootstrap, topic, COUNT)
    assert len(raw) == COUNT
    if framing == "header":
        assert all(h == [("__value_schema_id", raw[0][1][0][1])] for _, h in raw)
        ref = {"schemaGuid": registered["guid"]}
        assert raw[0][1][0][1][1:17] == uuid.UUID(registered["guid"]).bytes
    else:
        ref = {"schemaId": registered["id"]}
    indexes = {"messageIndexes": [0]} if fmt == "protobuf" else {}

    lines = consume(kafka_bootstrap, registry_url, topic, COUNT, "--format", fmt)
    assert lines == [{**ref, **indexes, "value": v} for v in expected]


def test_rust_produce_header_framing_to_python(kafka_bootstrap, registry_url, client):
    """The examples' header framing as Confluent's deserializers read it, Protobuf included
    (its message indexes travel in the header)."""
    for fmt in ["avro", "protobuf"]:
        topic = new_topic(kafka_bootstrap, f"rust-header-{fmt}")
        produce(kafka_bootstrap, registry_url, topic, "--format", fmt, "--count", str(COUNT), "--header-framing")
        guid = uuid.UUID(latest(registry_url, f"{topic}-value")["guid"])
        raw = read_topic(kafka_bootstrap, topic, COUNT)
        header = b"\x01" + guid.bytes + (b"\x00" if fmt == "protobuf" else b"")
        assert [h for _, h in raw] == [[("__value_schema_id", header)]] * COUNT
        assert all(not value.startswith(b"\x01" + guid.bytes) for value, _ in raw)
        deserializer = AvroDeserializer(client) if fmt == "avro" else ProtobufDeserializer(user_class(), {})
        values = read_topic(kafka_bootstrap, topic, COUNT, deserializer)
        if fmt == "protobuf":
            values = [{"id": v.id, "name": v.name} for v in values]
        assert values == users()
        lines = consume(kafka_bootstrap, registry_url, topic, COUNT)
        indexes = {"messageIndexes": [0]} if fmt == "protobuf" else {}
        expected = users() if fmt == "avro" else [json_format.MessageToDict(user_class()(**u)) for u in users()]
        assert lines == [{"schemaGuid": str(guid), **indexes, "value": v} for v in expected]


def test_avro_evolution_through_the_broker(kafka_bootstrap, registry_url, client):
    """Version 1 records, then version 2 records (a new optional field) in one topic: a
    consumer on v2 reads all with the default filled in, a consumer on v1 reads all without
    the new field; each record keeps naming the version it was written with."""
    topic = new_topic(kafka_bootstrap, "evolution")
    v1_values = users(10)
    v2_values = [{"id": 100 + i, "name": f"new-{i}", "email": None if i % 2 else f"n{i}@example.com"} for i in range(10)]
    lines = lambda values: "".join(json.dumps(v) + "\n" for v in values)  # noqa: E731
    produce(kafka_bootstrap, registry_url, topic, "--format", "avro", "--schema-file", str(SCHEMAS / "user.avsc"),
            stdin=lines(v1_values))
    v1_id = latest(registry_url, f"{topic}-value")["id"]
    produce(kafka_bootstrap, registry_url, topic, "--format", "avro", "--schema-file", str(SCHEMAS / "user_v2.avsc"),
            stdin=lines(v2_values))
    v2_id = latest(registry_url, f"{topic}-value")["id"]
    assert v1_id != v2_id
    ids = [v1_id] * 10 + [v2_id] * 10

    as_written = consume(kafka_bootstrap, registry_url, topic, 20)
    assert as_written == [{"schemaId": i, "value": v} for i, v in zip(ids, v1_values + v2_values)]

    # v1 writer, v2 reader: the missing email takes its default.
    upgraded = [{**v, "email": None} for v in v1_values] + v2_values
    read_v2 = consume(kafka_bootstrap, registry_url, topic, 20, "--reader-schema", str(SCHEMAS / "user_v2.avsc"))
    assert read_v2 == [{"schemaId": i, "value": v} for i, v in zip(ids, upgraded)]

    # v2 writer, v1 reader: the email is dropped.
    downgraded = v1_values + [{"id": v["id"], "name": v["name"]} for v in v2_values]
    read_v1 = consume(kafka_bootstrap, registry_url, topic, 20, "--reader-schema", str(SCHEMAS / "user.avsc"))
    assert read_v1 == [{"schemaId": i, "value": v} for i, v in zip(ids, downgraded)]

    # Confluent's deserializer with the same reader schemas agrees.
    assert read_topic(kafka_bootstrap, topic, 20, AvroDeserializer(client, USER_V2)) == upgraded
    assert read_topic(kafka_bootstrap, topic, 20, AvroDeserializer(client, USER_V1)) == downgraded


def test_bad_input_fails_with_one_line(kafka_bootstrap, registry_url, tmp_path):
    topic = new_topic(kafka_bootstrap, "bad-input")
    base = ["--bootstrap", kafka_bootstrap, "--registry", registry_url, "--topic", topic]
    cases = [
        ("produce", [*base, "--format", "avro", "--schema-file", str(tmp_path / "missing.avsc")], "", "missing.avsc"),
        ("produce", [*base, "--format", "avro", "--schema-file", str(SCHEMAS / "user.avsc")], '{"id": 1}\n',
         "stdin line 1"),
        ("produce", [*base, "--format", "avro", "--schema-file", str(SCHEMAS / "user.avsc")], "not json\n",
         "not JSON"),
        ("consume", [*base, "--format", "protobuf", "--reader-schema", str(SCHEMAS / "user.avsc")], "", "Avro"),
        ("consume", [*base[:-1], f"{topic}-absent", "--max-records", "1"], "", "absent"),
    ]
    for name, args, stdin, expected in cases:
        done = run_example(name, args, stdin)
        stderr = done.stderr.decode()
        assert done.returncode == 1, (name, args, stderr)
        assert expected in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
