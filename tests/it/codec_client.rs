//! The codec crate's async registry client against the real server: auto-registration and
//! lookup under each subject name strategy, use-latest-version with its TTL, writer schemas
//! with references fetched on first sight, Protobuf decoding, JSON Schema validation, and
//! registry errors that keep their `error_code`.

use std::time::Duration;

use crate::common::{Server, USER_V1, USER_V2};
use schemata_codec::avro::AvroCodec;
use schemata_codec::client::{Reference, RegistryClient, Schema, SerializerConfig, SubjectNameStrategy};
use schemata_codec::json::JsonCodec;
use schemata_codec::protobuf::ProtobufCodec;
use schemata_codec::{wire, Error, SchemaRef};
use serde_json::{json, Value};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

#[test]
fn producer_and_consumer_paths() {
    let server = Server::start();
    let rt = runtime();
    let client = RegistryClient::new(&server.url("")).unwrap();
    let codec = AvroCodec::new();
    let value = json!({"name": "ada"});
    let config = SerializerConfig::default();
    let bytes = rt.block_on(client.avro_encode(&codec, &config, "users", &Schema::avro(USER_V1), &value)).unwrap();
    // The harness's blocking HTTP client must not run inside the async runtime.
    let (_, latest) = server.get("/subjects/users-value/versions/latest");
    rt.block_on(async {
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, latest["id"].as_u64().unwrap() as u8]);

        // A fresh consumer fetches the writer schema by id.
        let consumer = RegistryClient::new(&server.url("")).unwrap();
        let back: Value = consumer.avro_decode(&AvroCodec::new(), &bytes).await.unwrap();
        assert_eq!(back, value);

        // Auto-register off: a schema the subject lacks is a registry error with its code.
        let strict = SerializerConfig { auto_register: false, ..config };
        let err = client.avro_encode(&codec, &strict, "users", &Schema::avro(USER_V2), &value).await.unwrap_err();
        assert!(matches!(err, Error::Registry { status: 404, error_code: 40403, .. }), "{err}");
        let err = client.avro_encode(&codec, &strict, "nobody", &Schema::avro(USER_V1), &value).await.unwrap_err();
        assert!(matches!(err, Error::Registry { error_code: 40401, .. }), "{err}");
        let bytes = client.avro_encode(&codec, &strict, "users", &Schema::avro(USER_V1), &value).await.unwrap();
        assert_eq!(bytes[4] as u64, latest["id"].as_u64().unwrap());

        // Record strategies name the subject after the record.
        let by_record = SerializerConfig { strategy: SubjectNameStrategy::TopicRecord, ..config };
        client.avro_encode(&codec, &by_record, "users", &Schema::avro(USER_V1), &value).await.unwrap();
        let err = client.schema(SchemaRef::Id(9999)).await.unwrap_err();
        assert!(matches!(err, Error::Registry { error_code: 40403, .. }), "{err}");
    });
    assert_eq!(server.get("/subjects/users-User/versions").0, 200);
}

#[test]
fn use_latest_version_honours_the_ttl() {
    let server = Server::start();
    let v1 = server.register("t-value", USER_V1);
    let rt = runtime();
    let cached = RegistryClient::new(&server.url("")).unwrap().with_latest_ttl(Duration::from_secs(3600));
    let fresh = RegistryClient::new(&server.url("")).unwrap().with_latest_ttl(Duration::ZERO);
    assert_eq!(rt.block_on(cached.latest("t-value")).unwrap().id as u64, v1);
    assert_eq!(rt.block_on(fresh.latest("t-value")).unwrap().id as u64, v1);
    let v2 = server.register("t-value", USER_V2);
    rt.block_on(async {
        assert_eq!(cached.latest("t-value").await.unwrap().id as u64, v1);
        let latest = fresh.latest("t-value").await.unwrap();
        assert_eq!((latest.id as u64, latest.version), (v2, 2));

        // use-latest-version writes with v2 (age takes no value from the caller's v1 schema).
        let config = SerializerConfig { use_latest_version: true, ..SerializerConfig::default() };
        let codec = AvroCodec::new();
        let bytes = fresh
            .avro_encode(&codec, &config, "t", &Schema::avro(USER_V1), &json!({"name": "x", "age": 3}))
            .await
            .unwrap();
        assert_eq!(bytes[4] as u64, v2);
        assert_eq!(&bytes[5..], &[2, b'x', 6]);
    });
}

#[test]
fn references_and_protobuf_are_fetched_on_first_sight() {
    let server = Server::start();
    let address = r#"{"type":"record","name":"Address","namespace":"t","fields":[{"name":"city","type":"string"}]}"#;
    server.register("address", address);
    let person = r#"{"type":"record","name":"Person","namespace":"t","fields":[{"name":"home","type":"t.Address"}]}"#;
    let mut schema = Schema::avro(person);
    schema.references.push(Reference { name: "t.Address".into(), subject: "address".into(), version: 1 });
    let proto = "syntax = \"proto3\";\npackage p;\nimport \"money.proto\";\nmessage A { Money m = 1; message B { string s = 1; } }\n";
    let money = "syntax = \"proto3\";\npackage p;\nmessage Money { int64 cents = 1; }\n";
    server.post("/subjects/money/versions", json!({"schemaType": "PROTOBUF", "schema": money}));
    runtime().block_on(async {
        let client = RegistryClient::new(&server.url("")).unwrap();
        let codec = AvroCodec::new();
        let value = json!({"home": {"city": "Oslo"}});
        let bytes = client.avro_encode(&codec, &SerializerConfig::default(), "people", &schema, &value).await.unwrap();
        let back: Value =
            RegistryClient::new(&server.url("")).unwrap().avro_decode(&AvroCodec::new(), &bytes).await.unwrap();
        assert_eq!(back, value);

        let mut pb = Schema::protobuf(proto);
        pb.references.push(Reference { name: "money.proto".into(), subject: "money".into(), version: 1 });
        let id = client.register("pb-value", &pb).await.unwrap();
        assert_eq!(client.lookup("pb-value", &pb).await.unwrap(), id);
        let writer = ProtobufCodec::new();
        writer.add_schema(SchemaRef::Id(id), proto, &[("money.proto", money)]).unwrap();
        let framed = writer.encode_json(SchemaRef::Id(id), Some("p.A.B"), &json!({"s": "hi"})).unwrap();
        let (schema_ref, indexes, decoded) = client.protobuf_decode_json(&ProtobufCodec::new(), &framed).await.unwrap();
        assert_eq!((schema_ref, indexes, decoded), (SchemaRef::Id(id), vec![0, 0], json!({"s": "hi"})));

        // A producer's own message, framed through the client: the record strategy names the
        // subject after the message, whose index path comes from the registered schema.
        let nested = writer.message(SchemaRef::Id(id), Some("p.A.B")).unwrap();
        let message = prost_reflect::DynamicMessage::deserialize(nested, &json!({"s": "yo"})).unwrap();
        let by_record = SerializerConfig { strategy: SubjectNameStrategy::TopicRecord, ..SerializerConfig::default() };
        let codec = ProtobufCodec::new();
        let framed = client.protobuf_encode(&codec, &by_record, "pbt", &pb, &message).await.unwrap();
        let (schema_ref, indexes, decoded) = client.protobuf_decode_json(&ProtobufCodec::new(), &framed).await.unwrap();
        assert_eq!((schema_ref, indexes, decoded), (SchemaRef::Id(id), vec![0, 0], json!({"s": "yo"})));
    });
    assert_eq!(server.get("/subjects/pbt-p.A.B/versions").1, json!([1]));
}

#[test]
fn json_schema_records_are_validated_against_the_registered_schema() {
    let server = Server::start();
    let rt = runtime();
    let person = r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#;
    server.post("/subjects/person/versions", json!({"schemaType": "JSON", "schema": person}));
    let order = Schema {
        schema_type: schemata_codec::client::SchemaType::Json,
        text: r#"{"title":"Order","type":"object","properties":{"who":{"$ref":"person.json"}},"required":["who"]}"#
            .into(),
        references: vec![Reference { name: "person.json".into(), subject: "person".into(), version: 1 }],
    };
    let by_title = SerializerConfig { strategy: SubjectNameStrategy::TopicRecord, ..SerializerConfig::default() };
    let good = json!({"who": {"name": "ada"}});
    let bytes = rt.block_on(async {
        let client = RegistryClient::new(&server.url("")).unwrap();
        let codec = JsonCodec::new();
        let bytes = client.json_encode(&codec, &by_title, "orders", &order, &good, true).await.unwrap();
        // The referenced schema is fetched and applied: a nameless person is refused.
        let bad = json!({"who": {}});
        let err = client.json_encode(&codec, &by_title, "orders", &order, &bad, true).await.unwrap_err();
        assert!(matches!(err, Error::JsonSchemaViolation(_)), "{err}");
        let unchecked = client.json_encode(&codec, &by_title, "orders", &order, &bad, false).await.unwrap();

        // A fresh consumer fetches the schema and its reference by id on first sight.
        let consumer = RegistryClient::new(&server.url("")).unwrap();
        let codec = JsonCodec::new();
        let (schema, back): (_, Value) = consumer.json_decode(&codec, &bytes, true).await.unwrap();
        assert_eq!((schema, back), (SchemaRef::Id(i32::from(bytes[4])), good.clone()));
        let err = consumer.json_decode::<Value>(&codec, &unchecked, true).await.unwrap_err();
        assert!(matches!(err, Error::JsonSchemaViolation(_)), "{err}");
        bytes
    });
    // TopicRecordNameStrategy took the schema's title.
    let (status, latest) = server.get("/subjects/orders-Order/versions/latest");
    assert_eq!(status, 200);
    assert_eq!(latest["id"].as_u64().unwrap(), u64::from(bytes[4]));
}

#[test]
fn records_framed_by_guid_find_their_schema_by_guid() {
    let server = Server::start();
    let rt = runtime();
    let (status, registered) =
        server.send_keeping_guids("POST", "/subjects/g-value/versions", Some(&json!({"schema": USER_V1})));
    assert_eq!(status, 200, "{registered}");
    let guid: Vec<u8> = registered["guid"]
        .as_str()
        .unwrap()
        .replace('-', "")
        .as_bytes()
        .chunks(2)
        .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap())
        .collect();
    let guid: [u8; 16] = guid.try_into().unwrap();
    let value = json!({"name": "ada"});
    let framed = AvroCodec::new()
        .add_schema(SchemaRef::Guid(guid), USER_V1, &[])
        .unwrap()
        .encode_framed(SchemaRef::Guid(guid), &value)
        .unwrap();
    assert_eq!((framed[0], &framed[1..17]), (1, &guid[..]));
    rt.block_on(async {
        let consumer = RegistryClient::new(&server.url("")).unwrap();
        let back: Value = consumer.avro_decode(&AvroCodec::new(), &framed).await.unwrap();
        assert_eq!(back, value);
        let unknown = [&[1u8][..], &[0; 16], &framed[17..]].concat();
        let err = consumer.avro_decode::<Value>(&AvroCodec::new(), &unknown).await.unwrap_err();
        assert!(matches!(err, Error::Registry { error_code: 40403, .. }), "{err}");
    });
}

/// Header framing: the producer frames with the GUID the registry gave at registration (and
/// with use-latest-version, the latest version's), the frame is cut into the header value and
/// the payload, and a fresh consumer reads the pair back by GUID, resolved to a reader schema
/// when asked. A prost message framed through the client carries its indexes in the header.
#[test]
fn header_framing_by_guid() {
    let server = Server::start();
    let rt = runtime();
    let value = json!({"name": "ada"});
    let header_framing = SerializerConfig { header_framing: true, ..SerializerConfig::default() };
    let client = RegistryClient::new(&server.url("")).unwrap();
    let codec = AvroCodec::new();
    let framed =
        rt.block_on(client.avro_encode(&codec, &header_framing, "users", &Schema::avro(USER_V1), &value)).unwrap();
    let (_, latest) = server.send_keeping_guids("GET", "/subjects/users-value/versions/latest", None);
    let guid = wire::parse_guid(latest["guid"].as_str().unwrap()).unwrap();
    let (header, payload) = wire::split_header(&framed, false).unwrap();
    assert_eq!(header, [&[1][..], &guid].concat());
    assert_eq!(payload, b"\x06ada");

    let proto =
        "syntax = \"proto3\";\npackage p;\nmessage Pet { string name = 1; }\nmessage Owner { string name = 1; }\n";
    #[derive(Clone, PartialEq, prost::Message)]
    struct Owner {
        #[prost(string, tag = "1")]
        name: String,
    }
    rt.block_on(async {
        let consumer = RegistryClient::new(&server.url("")).unwrap();
        let joined = wire::join_header(Some(header), payload);
        let back: Value = consumer.avro_decode(&AvroCodec::new(), &joined).await.unwrap();
        assert_eq!(back, value);
        let reader = std::sync::Arc::new(schemata_codec::avro::AvroSchema::parse(USER_V2, &[]).unwrap());
        let resolved = consumer.avro_decode_value(&AvroCodec::new(), &joined, Some(&reader)).await.unwrap();
        let mut expected = value.clone();
        expected["age"] = json!(0);
        assert_eq!(schemata_codec::avro::to_json(&resolved), expected);

        // The latest version's GUID with use-latest-version.
        let latest_config = SerializerConfig { use_latest_version: true, ..header_framing };
        let again = client.avro_encode(&codec, &latest_config, "users", &Schema::avro(USER_V1), &value).await.unwrap();
        assert_eq!(again, framed);

        let codec = ProtobufCodec::new();
        let owner = Owner { name: "bo".into() };
        let pb = Schema::protobuf(proto);
        let framed =
            client.protobuf_encode_prost(&codec, &header_framing, "pets", &pb, "p.Owner", &owner).await.unwrap();
        let (header, payload) = wire::split_header(&framed, true).unwrap();
        assert_eq!((header.len(), &header[17..], payload), (19, &[2, 2][..], &b"\x0a\x02bo"[..]));
        let joined = wire::join_header(Some(header), payload);
        let (schema_ref, indexes, decoded) =
            consumer.protobuf_decode_json(&ProtobufCodec::new(), &joined).await.unwrap();
        assert!(matches!(schema_ref, SchemaRef::Guid(_)));
        assert_eq!((indexes, decoded), (vec![1], json!({"name": "bo"})));
    });
}
