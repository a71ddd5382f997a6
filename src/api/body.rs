//! Request bodies, decoded the way Confluent's Jackson setup decodes them: the four accepted
//! media types (or none), unknown properties ignored, scalars coerced where Jackson coerces
//! them, a missing body reported as 422 and malformed JSON as 400 — never a 500.

use actix_web::http::header;
use actix_web::HttpRequest;
use serde_json::{Map, Value};

use crate::registry::error::RegistryError;
use crate::registry::settings::ConfigUpdate;
use crate::registry::tags::TagRequest;
use crate::registry::{InputReference, SchemaInput};
use crate::schema::{Entity, TagEdit};
use crate::types::{Level, Mode};

const ACCEPTED: [&str; 4] = [
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
];

type Result<T> = std::result::Result<T, RegistryError>;

/// Parses the body as JSON. `operation` names the Java method in the 422 for a missing body.
pub fn json(req: &HttpRequest, body: &[u8], operation: &str) -> Result<Value> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let media = ct.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !media.is_empty() && !ACCEPTED.contains(&media.as_str()) {
            return Err(RegistryError::UnsupportedMediaType);
        }
    }
    let missing = || RegistryError::Unprocessable(format!("{operation} must not be null (was null)"));
    let body = decode(body)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(missing());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Null) => Err(missing()),
        Ok(v) => Ok(v),
        Err(e) => Err(RegistryError::BadRequest(format!("Unexpected character or end of input: {e}"))),
    }
}

/// The encodings Jackson recognises in a body.
#[derive(Debug, PartialEq)]
enum Encoding {
    Utf8,
    Utf16 { big_endian: bool },
    Utf32 { big_endian: bool },
}

/// Turns the body into UTF-8. Jackson reads the raw bytes and detects their encoding itself
/// (the `charset` of the Content-Type is not consulted): a byte-order mark first, else the
/// zero bytes around the first character, which in a JSON text is always ASCII.
fn decode(body: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    let (encoding, bom) = detect(body)?;
    let rest = &body[bom..];
    let bad = |what: &str| RegistryError::BadRequest(format!("Invalid {what} in the request body"));
    let text: String = match encoding {
        Encoding::Utf8 => return Ok(std::borrow::Cow::Borrowed(rest)),
        Encoding::Utf16 { big_endian } => {
            let units = rest.chunks(2).map(|c| match c {
                [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
                [a, b] => u16::from_le_bytes([*a, *b]),
                // A lone trailing byte is malformed; Java's decoder replaces it.
                _ => 0xFFFD,
            });
            char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
        }
        Encoding::Utf32 { big_endian } => rest
            .chunks(4)
            .map(|c| {
                let quad: [u8; 4] = c.try_into().map_err(|_| bad("UTF-32 length"))?;
                let code = if big_endian { u32::from_be_bytes(quad) } else { u32::from_le_bytes(quad) };
                char::from_u32(code).ok_or_else(|| bad("UTF-32 character"))
            })
            .collect::<Result<_>>()?,
    };
    Ok(std::borrow::Cow::Owned(text.into_bytes()))
}

/// Jackson's `ByteSourceJsonBootstrapper.detectEncoding`: the encoding and the length of the
/// byte-order mark to skip. UCS-4 in the unusual byte orders (2143, 3412) is refused.
fn detect(body: &[u8]) -> Result<(Encoding, usize)> {
    let weird = |order: &str| RegistryError::BadRequest(format!("Unsupported UCS-4 endianness ({order}) detected"));
    if body.len() >= 4 {
        let quad = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        match quad {
            0x0000_FEFF => return Ok((Encoding::Utf32 { big_endian: true }, 4)),
            0xFFFE_0000 => return Ok((Encoding::Utf32 { big_endian: false }, 4)),
            0x0000_FFFE => return Err(weird("2143")),
            0xFEFF_0000 => return Err(weird("3412")),
            _ => {}
        }
        match quad >> 16 {
            0xFEFF => return Ok((Encoding::Utf16 { big_endian: true }, 2)),
            0xFFFE => return Ok((Encoding::Utf16 { big_endian: false }, 2)),
            _ => {}
        }
        if quad >> 8 == 0xEF_BBBF {
            return Ok((Encoding::Utf8, 3));
        }
        if quad >> 8 == 0 {
            return Ok((Encoding::Utf32 { big_endian: true }, 0));
        }
        if quad & 0x00FF_FFFF == 0 {
            return Ok((Encoding::Utf32 { big_endian: false }, 0));
        }
        if quad & !0x00FF_0000 == 0 {
            return Err(weird("3412"));
        }
        if quad & !0x0000_FF00 == 0 {
            return Err(weird("2143"));
        }
    }
    if body.len() >= 2 {
        match (body[0], body[1]) {
            (0, _) => return Ok((Encoding::Utf16 { big_endian: true }, 0)),
            (_, 0) => return Ok((Encoding::Utf16 { big_endian: false }, 0)),
            _ => {}
        }
    }
    Ok((Encoding::Utf8, 0))
}

/// The body must be a JSON object; other shapes are Jackson's 400.
fn object<'a>(v: &'a Value, type_name: &str) -> Result<&'a Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Array(_) => Err(RegistryError::BadRequest(format!(
            "Cannot deserialize value of type `{type_name}` from Array value (token `JsonToken.START_ARRAY`)"
        ))),
        other => Err(RegistryError::BadRequest(format!(
            "Cannot construct instance of `{type_name}`: no constructor to deserialize from {other}"
        ))),
    }
}

/// A String property: Jackson coerces numbers and booleans to their text.
fn string(m: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(Value::Array(_)) => Err(RegistryError::BadRequest(format!(
            "Cannot deserialize value of type `String` from Array value (property '{key}')"
        ))),
        Some(Value::Object(_)) => Err(RegistryError::BadRequest(
            "Cannot deserialize value of type `String` from Object value (token `JsonToken.START_OBJECT`)".into(),
        )),
    }
}

/// An Integer property: numbers (fractions truncated) and numeric strings.
fn integer(m: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    let bad = |shown: String| {
        RegistryError::BadRequest(format!(
            "Cannot deserialize value of type `Integer` from {shown}: not a valid `java.lang.Integer` value"
        ))
    };
    let in_range = |n: i64| (i32::MIN as i64..=i32::MAX as i64).contains(&n);
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let v = n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)).filter(|v| in_range(*v));
            v.map(Some).ok_or_else(|| bad(format!("Number {n}")))
        }
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(v) if in_range(v) => Ok(Some(v)),
            _ if s.is_empty() => Ok(None),
            _ => Err(bad(format!("String \"{s}\""))),
        },
        Some(other) => Err(bad(other.to_string())),
    }
}

/// A Boolean property: true/false, or their text.
fn boolean(m: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(Value::Number(n)) if n.is_i64() => Ok(Some(n.as_i64() != Some(0))),
        Some(Value::String(s)) => Err(RegistryError::BadRequest(format!(
            "Cannot deserialize value of type `Boolean` from String \"{s}\": only \"true\" or \"false\" recognized"
        ))),
        Some(other) => {
            Err(RegistryError::BadRequest(format!("Cannot deserialize value of type `Boolean` from {other}")))
        }
    }
}

/// An object property (metadata, rule sets), kept as JSON.
fn json_object(m: &Map<String, Value>, key: &str, type_name: &str) -> Result<Option<Value>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(RegistryError::BadRequest(format!(
            "Cannot deserialize value of type `{type_name}` from non-object value"
        ))),
    }
}

/// A scalar where Jackson expects a String: numbers and booleans become their text.
fn coerce_string(v: &mut Value) -> Result<()> {
    match v {
        Value::Number(n) => *v = Value::String(n.to_string()),
        Value::Bool(b) => *v = Value::String(b.to_string()),
        Value::String(_) | Value::Null => {}
        _ => {
            return Err(RegistryError::BadRequest(
                "Cannot deserialize value of type `String` from non-scalar value".into(),
            ))
        }
    }
    Ok(())
}

/// A Set<String> property: must be an array of scalars.
fn string_set(v: &mut Value) -> Result<()> {
    match v {
        Value::Array(items) => items.iter_mut().try_for_each(coerce_string),
        Value::Null => Ok(()),
        _ => Err(RegistryError::BadRequest("Cannot construct instance of `HashSet` from non-array value".into())),
    }
}

/// Metadata in Confluent's typed model: properties are Strings, tags are sets of Strings per
/// path, sensitive is a set of Strings.
fn metadata_at(m: &Map<String, Value>, key: &str) -> Result<Option<Value>> {
    let Some(mut md) = json_object(m, key, "Metadata")? else {
        return Ok(None);
    };
    // `properties` and `tags` are Java Maps: anything but an object (or null) is Jackson's 400.
    for (field, each) in [("properties", coerce_string as fn(&mut Value) -> Result<()>), ("tags", string_set)] {
        match md.get_mut(field) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => map.values_mut().try_for_each(each)?,
            Some(_) => {
                return Err(RegistryError::BadRequest(format!(
                    "Cannot deserialize value of type `java.util.Map` from non-object value ({field})"
                )))
            }
        }
    }
    if let Some(sensitive) = md.get_mut("sensitive") {
        string_set(sensitive)?;
    }
    if let Value::Object(map) = &mut md {
        map.retain(|k, v| !v.is_null() && matches!(k.as_str(), "tags" | "properties" | "sensitive"));
        // Empty members are omitted in Confluent's answers.
        map.retain(|_, v| {
            !matches!(v, Value::Object(o) if o.is_empty()) && !matches!(v, Value::Array(a) if a.is_empty())
        });
    }
    Ok(Some(md))
}

fn metadata(m: &Map<String, Value>) -> Result<Option<Value>> {
    metadata_at(m, "metadata")
}

/// Rule kinds and modes are Java enums: other values are Jackson's 400.
fn rule_set_at(m: &Map<String, Value>, key: &str) -> Result<Option<Value>> {
    let mut rule_set = json_object(m, key, "RuleSet")?;
    // Confluent's RuleSet turns a null list into an empty one; stored as null it would be
    // served back where clients expect a list.
    if let Some(Value::Object(rs)) = rule_set.as_mut() {
        for kind in ["migrationRules", "domainRules", "encodingRules"] {
            if let Some(v @ Value::Null) = rs.get_mut(kind) {
                *v = Value::Array(vec![]);
            }
        }
    }
    let enum_check = |rule: &Value, field: &str, allowed: &[&str]| match rule.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(other) => Err(RegistryError::BadRequest(format!(
            "Cannot deserialize value of type `{field}` from {other}: not one of the values accepted"
        ))),
    };
    for kind in ["migrationRules", "domainRules", "encodingRules"] {
        let rules = match rule_set.as_ref().and_then(|rs| rs.get(kind)) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(rules)) => rules,
            Some(other) => {
                return Err(RegistryError::BadRequest(format!(
                    "Cannot deserialize value of type `java.util.List<Rule>` from {other}"
                )))
            }
        };
        for rule in rules {
            // A rule is an object (Jackson's `Rule`); anything else would be stored and
            // served back in a shape no client can read.
            if !rule.is_object() {
                return Err(RegistryError::BadRequest(format!("Cannot deserialize value of type `Rule` from {rule}")));
            }
            enum_check(rule, "kind", &["CONDITION", "TRANSFORM"])?;
            enum_check(rule, "mode", &["UPGRADE", "DOWNGRADE", "UPDOWN", "WRITE", "READ", "WRITEREAD"])?;
        }
    }
    Ok(rule_set)
}

/// A RegisterSchemaRequest (register, lookup, compatibility).
pub fn schema_input(v: &Value) -> Result<SchemaInput> {
    let m = object(v, "RegisterSchemaRequest")?;
    let references = match m.get("references") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let r = match item {
                    Value::Object(r) => r,
                    _ => {
                        return Err(RegistryError::BadRequest(
                            "Cannot deserialize value of type `SchemaReference` from non-object value".into(),
                        ))
                    }
                };
                Ok(InputReference {
                    name: string(r, "name")?,
                    subject: string(r, "subject")?,
                    version: integer(r, "version")?,
                })
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(RegistryError::BadRequest(
            "Cannot deserialize value of type `SchemaReference>` from Object value (token `JsonToken.START_OBJECT`)"
                .into(),
        )),
    };
    Ok(SchemaInput {
        schema: string(m, "schema")?,
        schema_type: string(m, "schemaType")?,
        references,
        metadata: metadata(m)?,
        rule_set: rule_set_at(m, "ruleSet")?,
        id: integer(m, "id")?,
        version: integer(m, "version")?,
    })
}

/// A ConfigUpdateRequest. Returns the update and the echo Confluent answers with.
pub fn config_update(v: &Value) -> Result<(ConfigUpdate, Map<String, Value>)> {
    let m = object(v, "ConfigUpdateRequest")?;
    let mut update = ConfigUpdate::default();
    let mut echo = Map::new();
    match m.get("compatibility") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            update.config.compatibility_level = Some(Level::parse(s).ok_or(RegistryError::InvalidCompatibilityLevel)?);
            echo.insert("compatibility".into(), Value::String(s.clone()));
        }
        Some(_) => return Err(RegistryError::InvalidCompatibilityLevel),
    }
    let c = &mut update.config;
    c.normalize = boolean(m, "normalize")?;
    c.validate_fields = boolean(m, "validateFields")?;
    c.validate_rules = boolean(m, "validateRules")?;
    c.alias = string(m, "alias")?;
    c.compatibility_group = string(m, "compatibilityGroup")?;
    c.default_metadata = metadata_at(m, "defaultMetadata")?;
    c.override_metadata = metadata_at(m, "overrideMetadata")?;
    c.default_rule_set = rule_set_at(m, "defaultRuleSet")?;
    c.override_rule_set = rule_set_at(m, "overrideRuleSet")?;
    if let Value::Object(rest) = serde_json::to_value(&update.config).unwrap_or_default() {
        for (k, v) in rest {
            if k != "compatibilityLevel" {
                echo.insert(k, v);
            }
        }
    }
    Ok((update, echo))
}

/// A ModeUpdateRequest: the mode, case-insensitive, and the text to echo.
pub fn mode_update(v: &Value) -> Result<(Mode, String)> {
    let m = object(v, "ModeUpdateRequest")?;
    let raw = string(m, "mode")?.ok_or(RegistryError::InvalidMode)?;
    let mode = Mode::parse(&raw).ok_or(RegistryError::InvalidMode)?;
    Ok((mode, raw))
}

/// The root resource takes a map of Strings.
pub fn string_map(v: &Value) -> Result<()> {
    object(v, "Map")?.values().try_for_each(|v| coerce_string(&mut v.clone()))
}

/// A TagSchemaRequest: `tagsToAdd`/`tagsToRemove` entries name a `schemaEntity`
/// (`entityPath`, `entityType` `sr_record` or `sr_field`) and its `tags`.
pub fn tag_request(v: &Value) -> Result<TagRequest> {
    let m = object(v, "TagSchemaRequest")?;
    let edits = |key: &str| -> Result<Vec<TagEdit>> {
        let items = match m.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(RegistryError::BadRequest(format!(
                    "Cannot deserialize value of type `List` from non-array value (property '{key}')"
                )))
            }
        };
        items
            .iter()
            .map(|item| {
                let item = object(item, "SchemaTags")?;
                let entity = item.get("schemaEntity").map(|e| object(e, "SchemaEntity")).transpose()?;
                let path = entity.map(|e| string(e, "entityPath")).transpose()?.flatten().unwrap_or_default();
                let entity = match entity.map(|e| string(e, "entityType")).transpose()?.flatten().as_deref() {
                    Some("sr_record") => Entity::Record,
                    Some("sr_field") => Entity::Field,
                    other => {
                        return Err(RegistryError::BadRequest(format!(
                            "Cannot deserialize value of type `EntityType` from {other:?}: not one of the values accepted for Enum class: [sr_field, sr_record]"
                        )))
                    }
                };
                let mut tags = item.get("tags").cloned().unwrap_or(Value::Null);
                string_set(&mut tags)?;
                let tags = tags.as_array().map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()).unwrap_or_default();
                Ok(TagEdit { entity, path, tags })
            })
            .collect()
    };
    Ok(TagRequest {
        new_version: integer(m, "newVersion")?,
        add: edits("tagsToAdd")?,
        remove: edits("tagsToRemove")?,
        metadata: metadata(m)?,
        rule_set: rule_set_at(m, "ruleSet")?,
    })
}

/// Every decoding a request body goes through, for the fuzz target (`fuzz/`): the media-type
/// check and encoding detection of [`json`], then each request shape an endpoint reads. The
/// results are dropped: what is fuzzed is that no body, however malformed, panics.
pub fn decode_for_fuzzing(content_type: Option<&[u8]>, body: &[u8]) {
    let mut req = actix_web::test::TestRequest::default();
    if let Some(value) = content_type.and_then(|ct| header::HeaderValue::from_bytes(ct).ok()) {
        req = req.insert_header((header::CONTENT_TYPE, value));
    }
    let Ok(v) = json(&req.to_http_request(), body, "fuzz.arg0") else { return };
    let _ = schema_input(&v);
    let _ = config_update(&v);
    let _ = mode_update(&v);
    let _ = string_map(&v);
    let _ = tag_request(&v);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let bom = bom.then_some(0xFEFF);
        let units = bom.into_iter().chain(text.encode_utf16());
        units.flat_map(|u| if big_endian { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    }

    fn utf32(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let bom = bom.then_some(0xFEFF);
        let codes = bom.into_iter().chain(text.chars().map(u32::from));
        codes.flat_map(|c| if big_endian { c.to_be_bytes() } else { c.to_le_bytes() }).collect()
    }

    /// Every encoding Jackson detects, with and without a byte-order mark, decodes to the
    /// same text; a lone byte or plain UTF-8 is left as it is.
    #[test]
    fn bodies_are_decoded_as_jackson_detects_them() {
        let text = r#" {"schema":"\"string\"","x":"é€𝄞"}"#;
        let mut bodies = vec![text.as_bytes().to_vec(), [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()];
        for big_endian in [true, false] {
            for bom in [true, false] {
                bodies.push(utf16(text, big_endian, bom));
                bodies.push(utf32(text, big_endian, bom));
            }
        }
        for body in bodies {
            assert_eq!(decode(&body).unwrap().as_ref(), text.as_bytes(), "{body:?}");
        }
        for short in [b"1".as_slice(), b"", b"{}"] {
            assert_eq!(decode(short).unwrap().as_ref(), short);
        }
        // Two-byte inputs can only be UTF-16.
        assert_eq!(decode(&utf16("1", false, false)).unwrap().as_ref(), b"1");
    }

    /// Malformed input is a 400, never a panic: UCS-4 in odd byte orders, a cut UTF-32
    /// character, a code point past U+10FFFF.
    #[test]
    fn undecodable_bodies_are_refused() {
        for body in [
            vec![0, 0, 0xFF, 0xFE, 0, 0, b'{', 0],
            vec![0xFE, 0xFF, 0, 0],
            vec![0, b'{', 0, 0],
            vec![0, 0, b'{', 0],
            vec![0, 0, 0, b'{', 0, 0],
            vec![0, 0, 0, b'{', 0, 0x11, 0, 0],
        ] {
            assert!(matches!(decode(&body), Err(RegistryError::BadRequest(_))), "{body:?}");
        }
    }

    /// The error code and message a refusal shows the client.
    fn refusal<T: std::fmt::Debug>(r: Result<T>) -> (u32, String) {
        let e = r.expect_err("refused");
        (e.error_code(), e.to_string())
    }

    fn request(content_type: Option<&str>) -> HttpRequest {
        let mut req = actix_web::test::TestRequest::default();
        if let Some(ct) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, ct));
        }
        req.to_http_request()
    }

    /// `{key: value}` as the map a property reader takes.
    fn one(key: &str, value: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(key.into(), value);
        m
    }

    /// The four media types, any case, with parameters, or none at all; anything else is 415
    /// whatever the body.
    #[test]
    fn media_types_are_checked_before_the_body() {
        let accepted = [
            None,
            Some(""),
            Some("application/vnd.schemaregistry.v1+json"),
            Some("application/vnd.schemaregistry+json"),
            Some("Application/JSON; charset=utf-8"),
            Some("application/octet-stream"),
        ];
        for ct in accepted {
            assert_eq!(json(&request(ct), b"{}", "op").unwrap(), serde_json::json!({}), "{ct:?}");
        }
        for ct in ["text/plain", "application/xml", "application/json-patch+json"] {
            for body in [b"{}".as_slice(), b"", b"{"] {
                assert_eq!(
                    refusal(json(&request(Some(ct)), body, "op")),
                    (415, "HTTP 415 Unsupported Media Type".into())
                );
            }
        }
    }

    /// No body, blank space or `null` is Confluent's 422 naming the Java argument; JSON that
    /// does not parse is a 400.
    #[test]
    fn missing_bodies_are_422_and_malformed_ones_400() {
        for body in [b"".as_slice(), b"  \r\n\t", b"null", b" null\n", &utf16(" null", false, true)] {
            let expected = (422, "register.arg2 must not be null (was null)".to_string());
            assert_eq!(refusal(json(&request(None), body, "register.arg2")), expected, "{body:?}");
        }
        for body in [b"{\"schema\":".as_slice(), b"{]", b"nul", b"{} {}"] {
            let (code, message) = refusal(json(&request(None), body, "op"));
            assert_eq!(code, 400, "{body:?}");
            assert!(message.starts_with("Unexpected character or end of input: "), "{message}");
        }
    }

    /// Every request type is a JSON object: an array or a scalar is Jackson's 400, naming the
    /// Java type.
    #[test]
    fn request_bodies_must_be_objects() {
        type Reader = fn(&Value) -> Result<()>;
        let readers: [(&str, Reader); 5] = [
            ("RegisterSchemaRequest", |v| schema_input(v).map(drop)),
            ("ConfigUpdateRequest", |v| config_update(v).map(drop)),
            ("ModeUpdateRequest", |v| mode_update(v).map(drop)),
            ("Map", string_map),
            ("TagSchemaRequest", |v| tag_request(v).map(drop)),
        ];
        for (type_name, read) in readers {
            let array = format!(
                "Cannot deserialize value of type `{type_name}` from Array value (token `JsonToken.START_ARRAY`)"
            );
            assert_eq!(refusal(read(&serde_json::json!([1]))), (400, array));
            for (scalar, shown) in
                [(serde_json::json!("x"), "\"x\""), (serde_json::json!(1), "1"), (serde_json::json!(true), "true")]
            {
                let expected =
                    format!("Cannot construct instance of `{type_name}`: no constructor to deserialize from {shown}");
                assert_eq!(refusal(read(&scalar)), (400, expected));
            }
        }
    }

    /// String properties: numbers and booleans become their text; absent and null are unset;
    /// arrays and objects are refused.
    #[test]
    fn string_properties_coerce_scalars() {
        let cases = [
            (Value::Null, None),
            (serde_json::json!("a b"), Some("a b")),
            (serde_json::json!(""), Some("")),
            (serde_json::json!(12), Some("12")),
            (serde_json::json!(-1.5), Some("-1.5")),
            (serde_json::json!(true), Some("true")),
            (serde_json::json!(false), Some("false")),
        ];
        for (value, expected) in cases {
            assert_eq!(string(&one("k", value.clone()), "k").unwrap().as_deref(), expected, "{value}");
        }
        assert_eq!(string(&Map::new(), "k").unwrap(), None);
        let refused = [
            (serde_json::json!(["a"]), "Cannot deserialize value of type `String` from Array value (property 'k')"),
            (
                serde_json::json!({"a": 1}),
                "Cannot deserialize value of type `String` from Object value (token `JsonToken.START_OBJECT`)",
            ),
        ];
        for (value, message) in refused {
            assert_eq!(refusal(string(&one("k", value), "k")), (400, message.to_string()));
        }
    }

    /// Integer properties: Java ints, fractions truncated, numeric strings (trimmed) and the
    /// empty string as unset; anything out of the int range or not a number is refused.
    #[test]
    fn integer_properties_coerce_numbers_and_numeric_strings() {
        let cases = [
            (Value::Null, None),
            (serde_json::json!(3), Some(3)),
            (serde_json::json!(-1), Some(-1)),
            (serde_json::json!(2.9), Some(2)),
            (serde_json::json!(-2.9), Some(-2)),
            (serde_json::json!(2147483647), Some(2147483647)),
            (serde_json::json!(-2147483648), Some(-2147483648)),
            (serde_json::json!("7"), Some(7)),
            (serde_json::json!(" 7 "), Some(7)),
            (serde_json::json!("-3"), Some(-3)),
            (serde_json::json!(""), None),
        ];
        for (value, expected) in cases {
            assert_eq!(integer(&one("k", value.clone()), "k").unwrap(), expected, "{value}");
        }
        assert_eq!(integer(&Map::new(), "k").unwrap(), None);
        let refused = [
            (serde_json::json!(2147483648i64), "Number 2147483648"),
            (serde_json::json!(-2147483649i64), "Number -2147483649"),
            (serde_json::json!(u64::MAX), "Number 18446744073709551615"),
            (serde_json::json!("2147483648"), "String \"2147483648\""),
            (serde_json::json!("1.5"), "String \"1.5\""),
            (serde_json::json!("abc"), "String \"abc\""),
            (serde_json::json!(" "), "String \" \""),
            (serde_json::json!(true), "true"),
            (serde_json::json!([1]), "[1]"),
            (serde_json::json!({}), "{}"),
        ];
        for (value, shown) in refused {
            let message = format!(
                "Cannot deserialize value of type `Integer` from {shown}: not a valid `java.lang.Integer` value"
            );
            assert_eq!(refusal(integer(&one("k", value), "k")), (400, message));
        }
    }

    /// Boolean properties: true/false, their exact text, and integers (0 is false).
    #[test]
    fn boolean_properties_coerce_text_and_integers() {
        let cases = [
            (Value::Null, None),
            (serde_json::json!(true), Some(true)),
            (serde_json::json!(false), Some(false)),
            (serde_json::json!("true"), Some(true)),
            (serde_json::json!("false"), Some(false)),
            (serde_json::json!(0), Some(false)),
            (serde_json::json!(1), Some(true)),
            (serde_json::json!(-3), Some(true)),
        ];
        for (value, expected) in cases {
            assert_eq!(boolean(&one("k", value.clone()), "k").unwrap(), expected, "{value}");
        }
        assert_eq!(boolean(&Map::new(), "k").unwrap(), None);
        for text in ["TRUE", "yes", "1", ""] {
            let message = format!(
                "Cannot deserialize value of type `Boolean` from String \"{text}\": only \"true\" or \"false\" recognized"
            );
            assert_eq!(refusal(boolean(&one("k", serde_json::json!(text)), "k")), (400, message));
        }
        for (value, shown) in
            [(serde_json::json!(1.5), "1.5"), (serde_json::json!([]), "[]"), (serde_json::json!({}), "{}")]
        {
            let message = format!("Cannot deserialize value of type `Boolean` from {shown}");
            assert_eq!(refusal(boolean(&one("k", value), "k")), (400, message));
        }
    }

    /// Metadata keeps Confluent's three members, typed: property values and tag and sensitive
    /// entries become Strings; nulls, other members and empty members are dropped.
    #[test]
    fn metadata_is_typed_as_confluent_models_it() {
        let sent = serde_json::json!({
            "properties": {"a": 1, "b": true, "c": "x", "d": null},
            "tags": {"p": ["x", 2, false]},
            "sensitive": ["s", 3],
            "other": 1,
        });
        let expected = serde_json::json!({
            "properties": {"a": "1", "b": "true", "c": "x", "d": null},
            "tags": {"p": ["x", "2", "false"]},
            "sensitive": ["s", "3"],
        });
        assert_eq!(metadata(&one("metadata", sent)).unwrap(), Some(expected));
        let empty = serde_json::json!({"properties": {}, "tags": {}, "sensitive": [], "other": {"a": 1}});
        assert_eq!(metadata(&one("metadata", empty)).unwrap(), Some(serde_json::json!({})));
        let nulls = serde_json::json!({"properties": null, "tags": null, "sensitive": null});
        assert_eq!(metadata(&one("metadata", nulls)).unwrap(), Some(serde_json::json!({})));
        assert_eq!(metadata(&one("metadata", Value::Null)).unwrap(), None);
        assert_eq!(metadata(&Map::new()).unwrap(), None);
        let refused = [
            (serde_json::json!(1), "Cannot deserialize value of type `Metadata` from non-object value"),
            (serde_json::json!([]), "Cannot deserialize value of type `Metadata` from non-object value"),
            (
                serde_json::json!({"properties": []}),
                "Cannot deserialize value of type `java.util.Map` from non-object value (properties)",
            ),
            (
                serde_json::json!({"tags": "x"}),
                "Cannot deserialize value of type `java.util.Map` from non-object value (tags)",
            ),
            (
                serde_json::json!({"properties": {"a": [1]}}),
                "Cannot deserialize value of type `String` from non-scalar value",
            ),
            (serde_json::json!({"tags": {"p": "x"}}), "Cannot construct instance of `HashSet` from non-array value"),
            (
                serde_json::json!({"tags": {"p": [{"a": 1}]}}),
                "Cannot deserialize value of type `String` from non-scalar value",
            ),
            (serde_json::json!({"sensitive": "x"}), "Cannot construct instance of `HashSet` from non-array value"),
        ];
        for (value, message) in refused {
            assert_eq!(refusal(metadata(&one("metadata", value.clone()))), (400, message.to_string()), "{value}");
        }
        // The config's metadata members are read the same way, under their own names.
        let config = serde_json::json!({"defaultMetadata": {"properties": {"a": 1}}, "overrideMetadata": {"x": 1}});
        let (update, _) = config_update(&config).unwrap();
        assert_eq!(update.config.default_metadata, Some(serde_json::json!({"properties": {"a": "1"}})));
        assert_eq!(update.config.override_metadata, Some(serde_json::json!({})));
    }

    /// Rule sets: null rule lists become empty ones; lists must be lists of objects whose
    /// `kind` and `mode` are among the Java enums' values.
    #[test]
    fn rule_sets_check_their_lists_and_enums() {
        let sent = serde_json::json!({
            "migrationRules": null,
            "domainRules": [{"name": "r", "kind": "CONDITION", "mode": "WRITE", "extra": 1}, {"kind": null}],
        });
        let expected = serde_json::json!({
            "migrationRules": [],
            "domainRules": [{"name": "r", "kind": "CONDITION", "mode": "WRITE", "extra": 1}, {"kind": null}],
        });
        assert_eq!(rule_set_at(&one("ruleSet", sent), "ruleSet").unwrap(), Some(expected));
        for kind in ["CONDITION", "TRANSFORM"] {
            let rule_set = serde_json::json!({"encodingRules": [{"kind": kind}]});
            assert!(rule_set_at(&one("ruleSet", rule_set), "ruleSet").is_ok(), "{kind}");
        }
        for mode in ["UPGRADE", "DOWNGRADE", "UPDOWN", "WRITE", "READ", "WRITEREAD"] {
            let rule_set = serde_json::json!({"encodingRules": [{"mode": mode}]});
            assert!(rule_set_at(&one("ruleSet", rule_set), "ruleSet").is_ok(), "{mode}");
        }
        assert_eq!(rule_set_at(&Map::new(), "ruleSet").unwrap(), None);
        let refused = [
            (serde_json::json!("x"), "Cannot deserialize value of type `RuleSet` from non-object value"),
            (serde_json::json!({"domainRules": {}}), "Cannot deserialize value of type `java.util.List<Rule>` from {}"),
            (
                serde_json::json!({"migrationRules": "r"}),
                "Cannot deserialize value of type `java.util.List<Rule>` from \"r\"",
            ),
            (serde_json::json!({"domainRules": ["r"]}), "Cannot deserialize value of type `Rule` from \"r\""),
            (
                serde_json::json!({"domainRules": [{"kind": "condition"}]}),
                "Cannot deserialize value of type `kind` from \"condition\": not one of the values accepted",
            ),
            (
                serde_json::json!({"encodingRules": [{"mode": 1}]}),
                "Cannot deserialize value of type `mode` from 1: not one of the values accepted",
            ),
        ];
        for (value, message) in refused {
            assert_eq!(
                refusal(rule_set_at(&one("ruleSet", value.clone()), "ruleSet")),
                (400, message.to_string()),
                "{value}"
            );
        }
    }

    /// A RegisterSchemaRequest: every member read with its coercion, references included;
    /// unknown members ignored.
    #[test]
    fn register_requests_coerce_each_member() {
        let sent = serde_json::json!({
            "schema": 5,
            "schemaType": "AVRO",
            "references": [{"name": 1, "subject": "s", "version": "2"}, {}],
            "id": "10",
            "version": 1.7,
            "unknown": [1],
        });
        let input = schema_input(&sent).unwrap();
        assert_eq!(input.schema.as_deref(), Some("5"));
        assert_eq!(input.schema_type.as_deref(), Some("AVRO"));
        assert_eq!((input.id, input.version), (Some(10), Some(1)));
        let references: Vec<_> =
            input.references.iter().map(|r| (r.name.as_deref(), r.subject.as_deref(), r.version)).collect();
        assert_eq!(references, [(Some("1"), Some("s"), Some(2)), (None, None, None)]);
        assert!(schema_input(&serde_json::json!({"references": null})).unwrap().references.is_empty());
        let refused = [
            (
                serde_json::json!({"references": {}}),
                "Cannot deserialize value of type `SchemaReference>` from Object value (token `JsonToken.START_OBJECT`)",
            ),
            (
                serde_json::json!({"references": "r"}),
                "Cannot deserialize value of type `SchemaReference>` from Object value (token `JsonToken.START_OBJECT`)",
            ),
            (
                serde_json::json!({"references": ["r"]}),
                "Cannot deserialize value of type `SchemaReference` from non-object value",
            ),
            (
                serde_json::json!({"references": [{"version": "x"}]}),
                "Cannot deserialize value of type `Integer` from String \"x\": not a valid `java.lang.Integer` value",
            ),
        ];
        for (value, message) in refused {
            assert_eq!(refusal(schema_input(&value)), (400, message.to_string()), "{value}");
        }
    }

    /// A ConfigUpdateRequest: the level by name in any case (echoed as sent), the flags
    /// coerced, the echo the config without its level; a level that is not one is 42203.
    #[test]
    fn config_updates_parse_the_level_and_echo_the_rest() {
        let sent =
            serde_json::json!({"compatibility": "backward", "normalize": "true", "alias": 3, "validateFields": 0});
        let (update, echo) = config_update(&sent).unwrap();
        assert_eq!(update.config.compatibility_level, Some(Level::Backward));
        assert_eq!((update.config.normalize, update.config.validate_fields), (Some(true), Some(false)));
        assert_eq!(update.config.alias.as_deref(), Some("3"));
        let expected =
            serde_json::json!({"compatibility": "backward", "normalize": true, "validateFields": false, "alias": "3"});
        assert_eq!(Value::Object(echo), expected);
        let (update, echo) = config_update(&serde_json::json!({"compatibility": null})).unwrap();
        assert_eq!((update.config, echo), (crate::types::Config::default(), Map::new()));
        let invalid = (
            42203,
            "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, \
             forward_transitive, and full_transitive"
                .to_string(),
        );
        for level in
            [serde_json::json!("sideways"), serde_json::json!(""), serde_json::json!(1), serde_json::json!(["full"])]
        {
            assert_eq!(refusal(config_update(&serde_json::json!({"compatibility": level}))), invalid);
        }
    }

    /// A ModeUpdateRequest: the mode in any case, echoed as sent; missing or unknown is 42204.
    #[test]
    fn mode_updates_take_any_case_and_echo_it() {
        for (sent, mode) in [("readonly", Mode::Readonly), ("IMPORT", Mode::Import), ("ReadWrite", Mode::Readwrite)] {
            assert_eq!(mode_update(&serde_json::json!({"mode": sent})).unwrap(), (mode, sent.to_string()));
        }
        let invalid = (42204, "Invalid mode. Valid values are READWRITE, READONLY, and IMPORT.".to_string());
        for body in [
            serde_json::json!({}),
            serde_json::json!({"mode": null}),
            serde_json::json!({"mode": "x"}),
            serde_json::json!({"mode": 1}),
        ] {
            assert_eq!(refusal(mode_update(&body)), invalid, "{body}");
        }
        let array = "Cannot deserialize value of type `String` from Array value (property 'mode')".to_string();
        assert_eq!(refusal(mode_update(&serde_json::json!({"mode": []}))), (400, array));
    }

    /// The root resource's map: scalars only.
    #[test]
    fn string_maps_take_scalars_only() {
        assert!(string_map(&serde_json::json!({"a": 1, "b": "x", "c": null, "d": true})).is_ok());
        let message = "Cannot deserialize value of type `String` from non-scalar value".to_string();
        for value in [serde_json::json!([]), serde_json::json!({})] {
            assert_eq!(refusal(string_map(&serde_json::json!({ "a": value }))), (400, message.clone()));
        }
    }

    /// A TagSchemaRequest: entries name an entity of a known type and a set of tag Strings.
    #[test]
    fn tag_requests_name_known_entities() {
        let sent = serde_json::json!({
            "newVersion": "3",
            "tagsToAdd": [{"schemaEntity": {"entityPath": "User.name", "entityType": "sr_field"}, "tags": ["PII", 1]}],
            "tagsToRemove": [{"schemaEntity": {"entityType": "sr_record"}}],
        });
        let request = tag_request(&sent).unwrap();
        assert_eq!(request.new_version, Some(3));
        let edits = |e: &[TagEdit]| e.iter().map(|e| (e.entity, e.path.clone(), e.tags.clone())).collect::<Vec<_>>();
        assert_eq!(
            edits(&request.add),
            [(Entity::Field, "User.name".to_string(), vec!["PII".to_string(), "1".to_string()])]
        );
        assert_eq!(edits(&request.remove), [(Entity::Record, String::new(), vec![])]);
        let entity = |shown: &str| {
            format!(
                "Cannot deserialize value of type `EntityType` from {shown}: not one of the values accepted for Enum class: [sr_field, sr_record]"
            )
        };
        let refused = [
            (serde_json::json!({"tagsToAdd": [{"schemaEntity": {"entityType": "x"}}]}), entity("Some(\"x\")")),
            (serde_json::json!({"tagsToAdd": [{"tags": []}]}), entity("None")),
            (
                serde_json::json!({"tagsToRemove": {}}),
                "Cannot deserialize value of type `List` from non-array value (property 'tagsToRemove')".to_string(),
            ),
            (
                serde_json::json!({"tagsToAdd": [{"schemaEntity": {"entityType": "sr_record"}, "tags": "PII"}]}),
                "Cannot construct instance of `HashSet` from non-array value".to_string(),
            ),
            (
                serde_json::json!({"tagsToAdd": [[]]}),
                "Cannot deserialize value of type `SchemaTags` from Array value (token `JsonToken.START_ARRAY`)"
                    .to_string(),
            ),
        ];
        for (value, message) in refused {
            assert_eq!(refusal(tag_request(&value)), (400, message), "{value}");
        }
    }
}
