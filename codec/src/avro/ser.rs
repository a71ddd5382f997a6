//! Avro binary straight from serde, walking the writer schema alongside the value. It
//! exists for speed: apache-avro's own schema-aware serializer looks every record field up
//! by name in a map and keeps a second map for fields that arrive out of order, which was
//! most of the cost of encoding a small record.
//!
//! It takes the shapes producers usually hand over: structs and maps whose fields come in
//! the schema's order, options for `["null", …]` unions, strings for enum symbols, JSON
//! numbers for any numeric type. Anything else (a missing field to fill from its default,
//! fields out of order, a union it cannot choose a branch of by the value's kind) is
//! [`Unsupported`], and the caller takes the slower path of schema resolution, which
//! accepts those. Both paths write the same bytes for a value both accept (tested).

use std::collections::HashMap;
use std::fmt;

use apache_avro::schema::{DecimalSchema, InnerDecimalSchema, Name, RecordField, UuidSchema};
use apache_avro::Schema;
use serde::ser::{self, Impossible, Serialize};

/// The schemas named types resolve to (apache-avro's name table).
pub(super) type Names<'s> = HashMap<Name, &'s Schema>;

/// A map key's schema.
static STRING: Schema = Schema::String;

/// The value's shape is not one this serializer takes; the caller falls back.
#[derive(Debug)]
pub(super) struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("value shape needs schema resolution")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

/// Appends the Avro binary encoding of `value` as `schema` to `out`. On error `out` may hold
/// part of the encoding; the caller truncates it.
pub(super) fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, schema: &Schema, names: &Names<'_>, value: &T) -> Result {
    value.serialize(Ser { out, schema, names })
}

fn write_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_long(out, bytes.len() as i64);
    out.extend_from_slice(bytes);
}

fn is_int(s: &Schema) -> bool {
    matches!(s, Schema::Int | Schema::Date | Schema::TimeMillis)
}

fn is_long(s: &Schema) -> bool {
    matches!(
        s,
        Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos
    )
}

/// The byte length a fixed-size schema requires, if `s` is one.
fn fixed_size(s: &Schema) -> Option<usize> {
    match s {
        Schema::Fixed(f)
        | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Fixed(f), .. })
        | Schema::Uuid(UuidSchema::Fixed(f))
        | Schema::Duration(f) => Some(f.size),
        _ => None,
    }
}

fn symbol_index(s: &Schema, symbol: &str) -> Option<usize> {
    match s {
        Schema::Enum(e) => e.symbols.iter().position(|x| x == symbol),
        _ => None,
    }
}

/// Which schemas a value can be written as (see `Ser::target`).
type Accepts<'f> = &'f dyn Fn(&Schema) -> bool;

struct Ser<'a, 's> {
    out: &'a mut Vec<u8>,
    schema: &'s Schema,
    names: &'s Names<'s>,
}

impl<'a, 's> Ser<'a, 's> {
    fn resolve(&self, s: &'s Schema) -> Result<&'s Schema> {
        match s {
            Schema::Ref { name } => self.names.get(name).copied().ok_or(Unsupported),
            s => Ok(s),
        }
    }

    /// The schema the value is written as: this one if `accepts` it, or in a union the first
    /// branch that does, its index written first.
    fn target(&mut self, accepts: impl Fn(&Schema) -> bool) -> Result<&'s Schema> {
        match self.resolve(self.schema)? {
            Schema::Union(union) => {
                for (i, branch) in union.variants().iter().enumerate() {
                    let branch = self.resolve(branch)?;
                    if accepts(branch) {
                        write_long(self.out, i as i64);
                        return Ok(branch);
                    }
                }
                Err(Unsupported)
            }
            s if accepts(s) => Ok(s),
            _ => Err(Unsupported),
        }
    }

    fn integer(mut self, n: i64) -> Result {
        let fits_int = i32::try_from(n).is_ok();
        // The exact kind first (int when it fits, as schema resolution picks), then widening.
        let s = match self.target(|s| if fits_int { is_int(s) } else { is_long(s) }) {
            Ok(s) => s,
            Err(_) => {
                self.target(|s| is_long(s) || (is_int(s) && fits_int) || matches!(s, Schema::Float | Schema::Double))?
            }
        };
        match s {
            Schema::Float => self.out.extend_from_slice(&(n as f32).to_le_bytes()),
            Schema::Double => self.out.extend_from_slice(&(n as f64).to_le_bytes()),
            _ => write_long(self.out, n),
        }
        Ok(())
    }

    fn float(mut self, x: f64, prefer_float: bool) -> Result {
        // The exact width first, so a double is not narrowed when the union has both.
        let exact = |s: &Schema| if prefer_float { matches!(s, Schema::Float) } else { matches!(s, Schema::Double) };
        let s = match self.target(exact) {
            Ok(s) => s,
            Err(_) => self.target(|s| matches!(s, Schema::Float | Schema::Double))?,
        };
        match s {
            Schema::Float => self.out.extend_from_slice(&(x as f32).to_le_bytes()),
            _ => self.out.extend_from_slice(&x.to_le_bytes()),
        }
        Ok(())
    }

    /// A record's fields, or a map's value schema, for a struct (`name` given) or a map. In a
    /// union a struct goes to the record of its name (or the only record) before a map, and
    /// a map to a map before the only record.
    fn container(mut self, name: Option<&str>) -> Result<Container<'a, 's>> {
        let one_record = match self.resolve(self.schema)? {
            Schema::Union(u) => {
                let records = u.variants().iter().filter(|b| matches!(self.resolve(b), Ok(Schema::Record(_))));
                records.count() == 1
            }
            _ => true,
        };
        let record =
            |s: &Schema| matches!(s, Schema::Record(r) if one_record || name.is_some_and(|n| r.name.name() == n));
        let map = |s: &Schema| matches!(s, Schema::Map(_));
        let (first, then): (Accepts, Accepts) = if name.is_some() { (&record, &map) } else { (&map, &record) };
        let s = match self.target(first) {
            Ok(s) => s,
            Err(_) => self.target(then)?,
        };
        Ok(match s {
            Schema::Record(r) => Container::Record { ser: self, fields: &r.fields, pos: 0 },
            Schema::Map(m) => Container::Map { ser: self, values: &m.types },
            _ => return Err(Unsupported),
        })
    }
}

impl<'a, 's> ser::Serializer for Ser<'a, 's> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Items<'a, 's>;
    type SerializeTuple = Impossible<(), Unsupported>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Container<'a, 's>;
    type SerializeStruct = Container<'a, 's>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_bool(mut self, v: bool) -> Result {
        self.target(|s| matches!(s, Schema::Boolean))?;
        self.out.push(u8::from(v));
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.integer(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.integer(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.integer(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.integer(v)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.integer(i64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.integer(i64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.integer(i64::from(v))
    }

    /// JSON numbers arrive here; beyond `i64` there is no Avro integer for them.
    fn serialize_u64(self, v: u64) -> Result {
        self.integer(i64::try_from(v).map_err(|_| Unsupported)?)
    }

    fn serialize_f32(self, v: f32) -> Result {
        self.float(f64::from(v), true)
    }

    fn serialize_f64(self, v: f64) -> Result {
        self.float(v, false)
    }

    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(mut self, v: &str) -> Result {
        match self.target(|s| {
            matches!(s, Schema::String | Schema::Uuid(UuidSchema::String)) || symbol_index(s, v).is_some()
        })? {
            s @ Schema::Enum(_) => write_long(self.out, symbol_index(s, v).ok_or(Unsupported)? as i64),
            _ => write_bytes(self.out, v.as_bytes()),
        }
        Ok(())
    }

    fn serialize_bytes(mut self, v: &[u8]) -> Result {
        let variable = |s: &Schema| {
            matches!(
                s,
                Schema::Bytes
                    | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Bytes, .. })
                    | Schema::Uuid(UuidSchema::Bytes)
            )
        };
        match self.target(|s| variable(s) || fixed_size(s) == Some(v.len()))? {
            s if variable(s) => write_bytes(self.out, v),
            _ => self.out.extend_from_slice(v),
        }
        Ok(())
    }

    fn serialize_none(mut self) -> Result {
        self.target(|s| matches!(s, Schema::Null)).map(drop)
    }

    /// The branch is chosen by the inner value's kind (never `null`).
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_none()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(Unsupported)
    }

    fn serialize_seq(mut self, len: Option<usize>) -> Result<Items<'a, 's>> {
        // The block count comes first, so the length must be known.
        let len = len.ok_or(Unsupported)?;
        let Schema::Array(array) = self.target(|s| matches!(s, Schema::Array(_)))? else {
            return Err(Unsupported);
        };
        if len > 0 {
            write_long(self.out, len as i64);
        }
        Ok(Items { ser: self, items: &array.items, left: len })
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(Unsupported)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Container<'a, 's>> {
        let mut c = self.container(None)?;
        c.start(len)?;
        Ok(c)
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Container<'a, 's>> {
        let mut c = self.container(Some(name))?;
        c.start(Some(len))?;
        Ok(c)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}

/// The items of an array, written as one block of the length serde announced.
struct Items<'a, 's> {
    ser: Ser<'a, 's>,
    items: &'s Schema,
    left: usize,
}

impl ser::SerializeSeq for Items<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.left = self.left.checked_sub(1).ok_or(Unsupported)?;
        value.serialize(Ser { out: self.ser.out, schema: self.items, names: self.ser.names })
    }

    fn end(self) -> Result {
        if self.left != 0 {
            return Err(Unsupported);
        }
        self.ser.out.push(0);
        Ok(())
    }
}

/// A struct or map value, written as an Avro record (fields in the schema's order) or map.
enum Container<'a, 's> {
    Record { ser: Ser<'a, 's>, fields: &'s [RecordField], pos: usize },
    Map { ser: Ser<'a, 's>, values: &'s Schema },
}

impl<'s> Container<'_, 's> {
    /// A map's block count, which must be known up front; a record has none.
    fn start(&mut self, len: Option<usize>) -> Result {
        if let Container::Map { ser, .. } = self {
            match len {
                Some(0) => {}
                Some(n) => write_long(ser.out, n as i64),
                None => return Err(Unsupported),
            }
        }
        Ok(())
    }

    /// Checks that `key` is the record's next field and returns its schema.
    fn next_field(fields: &'s [RecordField], pos: &mut usize, key: &str) -> Result<&'s Schema> {
        let field = fields.get(*pos).filter(|f| f.name == key).ok_or(Unsupported)?;
        *pos += 1;
        Ok(&field.schema)
    }

    fn finish(self) -> Result {
        match self {
            Container::Record { fields, pos, .. } if pos == fields.len() => Ok(()),
            Container::Record { .. } => Err(Unsupported),
            Container::Map { ser, .. } => {
                ser.out.push(0);
                Ok(())
            }
        }
    }
}

impl ser::SerializeStruct for Container<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        match self {
            Container::Record { ser, fields, pos } => {
                let schema = Self::next_field(fields, pos, key)?;
                value.serialize(Ser { out: ser.out, schema, names: ser.names })
            }
            Container::Map { ser, values } => {
                write_bytes(ser.out, key.as_bytes());
                value.serialize(Ser { out: ser.out, schema: values, names: ser.names })
            }
        }
    }

    /// A skipped field would need its default, and would break a map's announced count.
    fn skip_field(&mut self, _key: &'static str) -> Result {
        Err(Unsupported)
    }

    fn end(self) -> Result {
        self.finish()
    }
}

impl ser::SerializeMap for Container<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        match self {
            Container::Record { fields, pos, .. } => {
                let name = &fields.get(*pos).ok_or(Unsupported)?.name;
                if !key.serialize(KeyIs(name))? {
                    return Err(Unsupported);
                }
                Ok(())
            }
            Container::Map { ser, .. } => key.serialize(Ser { out: ser.out, schema: &STRING, names: ser.names }),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        match self {
            Container::Record { ser, fields, pos } => {
                let schema = &fields[*pos].schema;
                *pos += 1;
                value.serialize(Ser { out: ser.out, schema, names: ser.names })
            }
            Container::Map { ser, values } => value.serialize(Ser { out: ser.out, schema: values, names: ser.names }),
        }
    }

    fn end(self) -> Result {
        self.finish()
    }
}

/// Whether a map key is the string expected (a record field's name), without allocating.
struct KeyIs<'k>(&'k str);

macro_rules! not_a_string_key {
    ($($method:ident($($arg:ty),*)),*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<bool> { Err(Unsupported) })*
    };
}

impl ser::Serializer for KeyIs<'_> {
    type Ok = bool;
    type Error = Unsupported;
    type SerializeSeq = Impossible<bool, Unsupported>;
    type SerializeTuple = Impossible<bool, Unsupported>;
    type SerializeTupleStruct = Impossible<bool, Unsupported>;
    type SerializeTupleVariant = Impossible<bool, Unsupported>;
    type SerializeMap = Impossible<bool, Unsupported>;
    type SerializeStruct = Impossible<bool, Unsupported>;
    type SerializeStructVariant = Impossible<bool, Unsupported>;

    fn serialize_str(self, v: &str) -> Result<bool> {
        Ok(v == self.0)
    }

    not_a_string_key!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str)
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<bool> {
        Err(Unsupported)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<bool> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool> {
        Err(Unsupported)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(Unsupported)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(Unsupported)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Unsupported)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(Unsupported)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}
