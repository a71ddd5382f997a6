"""Interop tests: Confluent's Python Protobuf serializer and deserializer against Schemata.

Why this file exists: Confluent's ProtobufSerializer registers the schema as a base64
FileDescriptorProto, reads schemas back with ``format=serialized``, and frames each
message with the message-index path of its type. These tests run that client against the
session server (``conftest.py``): auto-registration, ``use.latest.version`` against a
schema registered as ``.proto`` text, nested messages (indexes other than ``[0]``), and a
well-known import (``google/protobuf/timestamp.proto``) that needs no reference.

The message classes are built at test time from a FileDescriptorProto with
``google.protobuf``'s descriptor pool and message factory, so no ``protoc`` is needed.
"""

from __future__ import annotations

import struct
import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

PACKAGE = "schemata.interop"

# The same file as .proto text, for the use.latest.version test.
ORDERS_PROTO = """syntax = "proto3";
package schemata.interop;

import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  int64 amount = 2;
  repeated Item items = 3;
  google.protobuf.Timestamp created = 4;

  message Item {
    string sku = 1;
    int32 qty = 2;
  }
}
message Shipment {
  Address to = 1;
  string carrier = 2;

  message Address {
    string city = 1;
  }
}
"""


def _field(name, number, ftype, type_name=None, repeated=False):
    f = descriptor_pb2.FieldDescriptorProto(name=name, number=number, type=ftype)
    f.label = f.LABEL_REPEATED if repeated else f.LABEL_OPTIONAL
    if type_name:
        f.type_name = type_name
    return f


def build_classes(file_name: str):
    """Message classes for ORDERS_PROTO's file, built from a FileDescriptorProto."""
    T = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name=file_name, package=PACKAGE, syntax="proto3")
    fdp.dependency.append("google/protobuf/timestamp.proto")
    order = fdp.message_type.add(name="Order")
    order.field.extend(
        [
            _field("id", 1, T.TYPE_STRING),
            _field("amount", 2, T.TYPE_INT64),
            _field("items", 3, T.TYPE_MESSAGE, f".{PACKAGE}.Order.Item", repeated=True),
            _field("created", 4, T.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
        ]
    )
    item = order.nested_type.add(name="Item")
    item.field.extend([_field("sku", 1, T.TYPE_STRING), _field("qty", 2, T.TYPE_INT32)])
    shipment = fdp.message_type.add(name="Shipment")
    shipment.field.extend(
        [_field("to", 1, T.TYPE_MESSAGE, f".{PACKAGE}.Shipment.Address"), _field("carrier", 2, T.TYPE_STRING)]
    )
    shipment.nested_type.add(name="Address").field.append(_field("city", 1, T.TYPE_STRING))

    pool = descriptor_pool.DescriptorPool()
    timestamp = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(timestamp)
    pool.Add(timestamp)
    pool.Add(fdp)

    def cls(name):
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))

    return cls("Order"), cls("Order.Item"), cls("Shipment")


@pytest.fixture
def client(registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_url})


def frame(data: bytes) -> tuple[int, bytes]:
    """(schema id, bytes after the id) of a Confluent-framed message."""
    assert data[0] == 0, data[:8]
    return struct.unpack(">i", data[1:5])[0], data[5:]


def sample_order(Order, Item):
    order = Order(id="o-1", amount=1234567890123)
    order.items.append(Item(sku="A-1", qty=2))
    order.items.append(Item(sku="B-7", qty=1))
    order.created.seconds = 1_700_000_000
    order.created.nanos = 5
    return order


def shipment(Shipment, city="Oslo"):
    message = Shipment(carrier="post")
    message.to.city = city
    return message


def test_auto_register_round_trip_with_nested_messages(client, registry_url):
    Order, Item, Shipment = build_classes(f"orders_{uuid.uuid4().hex}.proto")
    topic = f"pb-auto-{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(topic, MessageField.VALUE)

    cases = [
        (Order, sample_order(Order, Item), b"\x00"),
        (Shipment, shipment(Shipment), b"\x02\x02"),
        (Item, Item(sku="Z-9", qty=42), b"\x04\x00\x00"),
    ]
    ids = set()
    for cls, message, indexes in cases:
        serializer = ProtobufSerializer(cls, client, {"auto.register.schemas": True})
        data = serializer(message, ctx)
        schema_id, rest = frame(data)
        assert rest.startswith(indexes), (cls, rest[:6])
        assert rest[len(indexes):] == message.SerializeToString()
        ids.add(schema_id)

        deserializer = ProtobufDeserializer(cls, {}, client)
        assert deserializer(data, ctx) == message
    # One file, one schema: every message type shares the id.
    assert len(ids) == 1

    fresh = SchemaRegistryClient({"url": registry_url})
    registered = fresh.get_latest_version(f"{topic}-value")
    assert registered.schema.schema_type == "PROTOBUF"
    assert "message Order {" in registered.schema.schema_str
    assert 'import "google/protobuf/timestamp.proto";' in registered.schema.schema_str
    assert registered.schema.references == []


def test_use_latest_version_with_text_registered_schema(client, registry_url):
    Order, Item, Shipment = build_classes(f"latest_{uuid.uuid4().hex}.proto")
    topic = f"pb-latest-{uuid.uuid4().hex[:8]}"
    subject = f"{topic}-value"
    schema_id = client.register_schema(subject, Schema(ORDERS_PROTO, "PROTOBUF"))
    ctx = SerializationContext(topic, MessageField.VALUE)

    conf = {"auto.register.schemas": False, "use.latest.version": True}
    order = sample_order(Order, Item)
    data = ProtobufSerializer(Order, client, conf)(order, ctx)
    got_id, rest = frame(data)
    assert got_id == schema_id
    assert rest[:1] == b"\x00"

    shipment = Shipment(carrier="rail")
    shipment.to.city = "Bergen"
    data2 = ProtobufSerializer(Shipment, client, conf)(shipment, ctx)
    got_id2, rest2 = frame(data2)
    assert got_id2 == schema_id and rest2[:2] == b"\x02\x02"

    # A fresh client reads the writer schema by id with format=serialized.
    reader = SchemaRegistryClient({"url": registry_url})
    assert ProtobufDeserializer(Order, {}, reader)(data, ctx) == order
    assert ProtobufDeserializer(Shipment, {}, reader)(data2, ctx) == shipment
