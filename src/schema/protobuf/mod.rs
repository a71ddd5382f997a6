//! Protobuf schemas: `.proto` text (or a base64 `FileDescriptorProto`, the form Confluent's
//! Python serializer registers) parsed with protox, imports resolved through schema
//! references and built-in well-known files, re-printed in Confluent's layout, compared
//! with Confluent's difference rules, and located by message indexes.

mod aggregate;
mod compat;
pub use schemata_codec::protobuf::indexes;
mod normalize;
mod print;
mod resolve;
mod serialized;
pub mod tags;

use base64::Engine;
use prost::Message;
use prost_reflect::{DescriptorPool, FileDescriptor};
use prost_types::FileDescriptorProto;

use super::{ParseError, ParseOptions};
pub use compat::{Difference, DifferenceKind};
pub use resolve::is_well_known;

/// A parsed Protobuf schema: the file as written (type names in the source's spelling),
/// the linked descriptors (names resolved), and the stored text.
#[derive(Debug)]
pub struct ProtobufSchema {
    /// Boxed: a descriptor is large, and parsed schemas of every type share one enum.
    file: Box<FileDescriptorProto>,
    pool: DescriptorPool,
    canonical: String,
}

/// Inputs larger than this are refused before parsing (the registry's body limit is smaller).
const MAX_SCHEMA_LEN: usize = 4 << 20;

/// Deeper `{` nesting is refused before parsing: protox recurses per level, and a worker
/// thread's stack must survive any input.
pub const MAX_NESTING: usize = 64;

impl ProtobufSchema {
    /// Parses `text` with `references` (import path, text) available as imports, each
    /// possibly importing the others. The error is the parser's or linker's message.
    pub fn parse(text: &str, references: &[(&str, &str)], opts: ParseOptions) -> Result<ProtobufSchema, ParseError> {
        if text.len() > MAX_SCHEMA_LEN {
            return Err(String::from("Could not parse Protobuf - schema too large").into());
        }
        if nesting(text) > MAX_NESTING {
            return Err(format!("Could not parse Protobuf - nesting deeper than {MAX_NESTING} levels").into());
        }
        // protox is a third-party parser: a panic on some odd input becomes a refusal.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut file = parse_root(resolve::ROOT_NAME, text)?;
            let pool = link(&file, references)?;
            if opts.normalize {
                normalize::apply(&mut file, &pool);
            }
            let canonical = print::print(&file, opts.normalize);
            Ok(ProtobufSchema { file: Box::new(file), pool, canonical })
        }))
        .unwrap_or_else(|_| Err(String::from("Could not parse Protobuf - the parser failed on this input").into()))
    }

    /// The stored/returned text in Confluent's layout.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The linked descriptor of this schema's own file.
    pub fn file_descriptor(&self) -> Option<FileDescriptor> {
        self.pool.get_file_by_name(resolve::ROOT_NAME)
    }

    /// `format=serialized`: base64 of the binary `FileDescriptorProto`, as Confluent builds it.
    pub fn serialized(&self) -> String {
        let proto = serialized::descriptor(&self.file, &self.pool);
        base64::engine::general_purpose::STANDARD.encode(proto.encode_to_vec())
    }

    /// `format=ignore_extensions`: the text without extension ranges, `extend` blocks and
    /// custom (extension) options.
    pub fn without_extensions(&self) -> String {
        let mut file = (*self.file).clone();
        normalize::strip_extensions(&mut file);
        print::print(&file, false)
    }

    /// Confluent's differences from `original` to `self` (the update).
    pub fn differences(&self, original: &ProtobufSchema) -> Vec<Difference> {
        compat::diff(original, self)
    }
}

/// The deepest `{` nesting of `text`, braces in strings and comments included (an upper
/// bound is all the guard needs).
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Confluent verbose messages for the incompatible differences when `reader` reads data
/// written with `writer` (original = writer, update = reader); empty = compatible.
pub fn compatibility_messages(
    reader: &ProtobufSchema,
    writer: &ProtobufSchema,
    reader_role: &str,
    writer_role: &str,
) -> Vec<String> {
    reader
        .differences(writer)
        .iter()
        .filter(|d| !d.kind.compatible())
        .map(|d| d.confluent_message(reader_role, writer_role))
        .collect()
}

/// The parsed, unlinked descriptor of `text`: `.proto` source, or else a base64
/// `FileDescriptorProto`. Parse errors are reported for the text form.
pub(crate) fn parse_root(name: &str, text: &str) -> Result<FileDescriptorProto, String> {
    let parse_error = match protox_parse::parse(name, text) {
        Ok(mut file) => {
            // protox leaves `syntax` unset for an explicit `syntax = "proto2"`; Confluent
            // prints what was written, so recover it from the source info (path [12]).
            let written = |path: &[i32]| {
                file.source_code_info.as_ref().is_some_and(|i| i.location.iter().any(|l| l.path == path))
            };
            if file.syntax.is_none() && written(&[12]) {
                file.syntax = Some("proto2".to_string());
            }
            file.source_code_info = None;
            return Ok(file);
        }
        Err(e) => e,
    };
    if let Some(mut file) = decode_descriptor(text) {
        // prost-reflect panics (building its error message) on a `syntax` it does not know,
        // so an unknown one is refused here; an empty one is proto2, as protoc reads it.
        match file.syntax.as_deref() {
            None | Some("proto2") | Some("proto3") => {}
            Some("") => file.syntax = None,
            Some(other) => return Err(format!("Could not parse Protobuf - unknown syntax \"{other}\"")),
        }
        file.name = Some(name.to_string());
        relativize_names(&mut file);
        return Ok(file);
    }
    Err(format!("Could not parse Protobuf - {}", describe(&parse_error, text)))
}

/// A base64 `FileDescriptorProto`, if `text` is one (and declares anything at all).
fn decode_descriptor(text: &str) -> Option<FileDescriptorProto> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    let file = FileDescriptorProto::decode(bytes.as_slice()).ok()?;
    let declares = !file.message_type.is_empty() || !file.enum_type.is_empty() || !file.service.is_empty();
    declares.then_some(file)
}

/// A descriptor names types fully qualified (`.pkg.Outer.Inner`); text written for the
/// same file says `Outer.Inner`. Dropping the leading dot and the file's own package gives
/// the text form's spelling in the common case, so both forms print alike.
fn relativize_names(file: &mut FileDescriptorProto) {
    let prefix = match file.package.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => format!(".{p}."),
        None => ".".to_string(),
    };
    let fix = |name: &mut Option<String>| {
        if let Some(n) = name.as_mut() {
            if let Some(rest) = n.strip_prefix(&prefix) {
                *n = rest.to_string();
            } else if let Some(rest) = n.strip_prefix('.') {
                *n = rest.to_string();
            }
        }
    };
    fn walk(m: &mut prost_types::DescriptorProto, fix: &dyn Fn(&mut Option<String>)) {
        for f in m.field.iter_mut().chain(m.extension.iter_mut()) {
            fix(&mut f.type_name);
            fix(&mut f.extendee);
        }
        for n in &mut m.nested_type {
            walk(n, fix);
        }
    }
    for m in &mut file.message_type {
        walk(m, &fix);
    }
    for f in &mut file.extension {
        fix(&mut f.type_name);
        fix(&mut f.extendee);
    }
    for s in &mut file.service {
        for m in &mut s.method {
            fix(&mut m.input_type);
            fix(&mut m.output_type);
        }
    }
}

/// protox's message with the 1-based line and column of its first label.
fn describe(e: &protox_parse::ParseError, text: &str) -> String {
    use miette::Diagnostic;
    let at = e
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|l| {
            let offset = l.offset().min(text.len());
            let before = &text.as_bytes()[..offset];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let column = offset - before.iter().rposition(|b| *b == b'\n').map(|p| p + 1).unwrap_or(0) + 1;
            format!("Syntax error in :{line}:{column}: ")
        })
        .unwrap_or_default();
    format!("{at}{e}")
}

/// Links the root file with its imports into a descriptor pool. Confluent's parser (Wire's)
/// keeps custom options as written without resolving them, and its descriptor leaves them
/// out, so a schema whose custom options protox cannot interpret (an extension neither
/// defined nor imported, a value of the wrong shape) is linked again without them; the
/// stored text, printed from the unlinked file, keeps them. Confluent's own tag options
/// (`confluent.*`) are always interpreted.
fn link(file: &FileDescriptorProto, references: &[(&str, &str)]) -> Result<DescriptorPool, ParseError> {
    link_with(file, references, false).or_else(|first| {
        let mut lenient = file.clone();
        normalize::strip_custom_options(&mut lenient, not_confluent);
        link_with(&lenient, references, true).map_err(|_| first)
    })
}

/// Whether an option is someone else's than Confluent's `confluent/meta.proto`.
fn not_confluent(o: &prost_types::UninterpretedOption) -> bool {
    !o.name.iter().any(|p| p.is_extension && p.name_part.starts_with("confluent."))
}

/// One linking attempt; `lenient` also drops foreign custom options from the references.
fn link_with(
    file: &FileDescriptorProto,
    references: &[(&str, &str)],
    lenient: bool,
) -> Result<DescriptorPool, ParseError> {
    let mut root = file.clone();
    // Confluent writes tag options without importing their definitions; make them resolve.
    if uses_confluent_meta(&root) && !root.dependency.iter().any(|d| d == META) {
        root.dependency.push(META.to_string());
    }
    for (name, _) in references {
        if !root.dependency.iter().any(|d| d == name) && *name != resolve::ROOT_NAME {
            root.dependency.push(name.to_string());
        }
    }
    let mut resolver = resolve::Resolver::new(root, references);
    resolver.lenient = lenient;
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(false);
    compiler.open_file(resolve::ROOT_NAME).map_err(|e| link_error(&e))?;
    Ok(compiler.descriptor_pool())
}

const META: &str = "confluent/meta.proto";

/// True when some option of the file is one of `confluent/meta.proto`'s extensions.
fn uses_confluent_meta(file: &FileDescriptorProto) -> bool {
    fn meta(options: &[prost_types::UninterpretedOption]) -> bool {
        options.iter().any(|o| o.name.iter().any(|p| p.is_extension && p.name_part.starts_with("confluent.")))
    }
    fn message(m: &prost_types::DescriptorProto) -> bool {
        m.options.as_ref().is_some_and(|o| meta(&o.uninterpreted_option))
            || m.field.iter().any(|f| f.options.as_ref().is_some_and(|o| meta(&o.uninterpreted_option)))
            || m.enum_type.iter().any(enumeration)
            || m.nested_type.iter().any(message)
    }
    fn enumeration(e: &prost_types::EnumDescriptorProto) -> bool {
        e.options.as_ref().is_some_and(|o| meta(&o.uninterpreted_option))
            || e.value.iter().any(|v| v.options.as_ref().is_some_and(|o| meta(&o.uninterpreted_option)))
    }
    file.options.as_ref().is_some_and(|o| meta(&o.uninterpreted_option))
        || file.message_type.iter().any(message)
        || file.enum_type.iter().any(enumeration)
}

/// Confluent's wording for an unknown type (found by its validation step); protox's own
/// message otherwise.
fn link_error(e: &protox::Error) -> ParseError {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("name '") {
        if let Some((name, tail)) = rest.split_once('\'') {
            if tail.contains("not defined") {
                return ParseError { message: format!("Could not resolve type: {name}"), short: true };
            }
        }
    }
    format!("Could not parse Protobuf - {text}").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (fuzz/fuzz_targets/protobuf_descriptor.rs): a descriptor whose
    /// `syntax` is neither proto2 nor proto3 made prost-reflect panic while linking.
    #[test]
    fn descriptor_with_unknown_syntax_is_refused_without_panic() {
        // `enum E { A = 0; }` in a file declaring `syntax = "proto4"`.
        let proto4 = "CgdkZWZhdWx0KgoKAUUSBQoBQRAAYgZwcm90bzQ=";
        let err = ProtobufSchema::parse(proto4, &[], ParseOptions::default()).unwrap_err();
        assert!(err.message.contains("unknown syntax \"proto4\""), "{err}");
        // The fuzzer's input as it found it (aliases, reserved ranges, `syntax = "proto4"`).
        let found = "CgdkZWZhdWx0KiQKAUUSBQoBQRAAEgUKAUIQABoCEAEiBAgFEAUiBAgHEAkqAVhiBnByb3RvNA==";
        assert!(ProtobufSchema::parse(found, &[], ParseOptions::default()).is_err());
        // An empty `syntax` is proto2, as protoc reads it.
        let empty = "CgdkZWZhdWx0KgoKAUUSBQoBQRAAYgA=";
        let parsed = ProtobufSchema::parse(empty, &[], ParseOptions::default());
        assert!(parsed.is_ok(), "{:?}", parsed.err());
    }

    /// Found by fuzzing (fuzz/fuzz_targets/protobuf_descriptor.rs): a descriptor whose map
    /// entry has no key field (its key is numbered 33, not 1) made the compatibility check
    /// panic in prost-reflect's `map_entry_key_field`.
    #[test]
    fn map_entry_without_key_field_is_compared_without_panic() {
        let found = "CgdkZWZhdWx0ImQKAU0SDgoBYRgBIAEoBUgAiAEBEg0KAWIYAiADKAlCAhAAEg8KAWMYAyADMgZjRW50cnkaJwoGY0VudHJ5EgkKA2tleRghKAUSDgoFdmFsdWUYAigLMgFNOgI4AUIGCgJfYRIAYgZwcm90bzM=";
        let strict = ProtobufSchema::parse(found, &[], ParseOptions { normalize: true, validate: true }).unwrap();
        let lenient = ProtobufSchema::parse(found, &[], ParseOptions::default()).unwrap();
        assert!(compatibility_messages(&strict, &lenient, "new", "old").is_empty());
        assert!(compatibility_messages(&lenient, &strict, "new", "old").is_empty());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("syntax = \"proto3\";\n{}{}", "message A {".repeat(5000), "}".repeat(5000));
        let err = ProtobufSchema::parse(&deep, &[], ParseOptions::default()).unwrap_err();
        assert!(err.message.contains("nesting"), "{err}");
        let ok = format!("syntax = \"proto3\";\n{}{}", "message A {".repeat(20), "}".repeat(20));
        let parsed = ProtobufSchema::parse(&ok, &[], ParseOptions::default());
        assert!(parsed.is_ok(), "{:?}", parsed.err());
    }

    #[test]
    fn garbage_and_odd_descriptors_are_errors() {
        for text in ["{", "\u{0}", "AAAA", "CgdkZWZhdWx0"] {
            assert!(ProtobufSchema::parse(text, &[], ParseOptions::default()).is_err(), "{text:?}");
        }
    }
}

#[cfg(test)]
mod custom_options {
    use super::*;

    /// Custom options at every level, none of them defined or imported, one with an
    /// aggregate value and one naming a field of an extension.
    const WITH_OPTIONS: &str = r#"syntax = "proto3";
package p;

option (file_opt) = "f";
option (a.b).c = 1;

message M {
  option (msg_opt) = { x: 1 y: "two" };
  string s = 1 [(field_opt) = true];
  oneof o {
    option (oneof_opt) = 2;
    int32 i = 2;
  }
  message N {
    option (nested_opt) = 3;
    int64 n = 1;
  }
}
enum E {
  option (enum_opt) = 1;
  A = 0 [(value_opt) = "v"];
}
service S {
  option (svc_opt) = 1;
  rpc Call (M) returns (M) {
    option (method_opt) = 1;
  }
}
"#;

    fn parse(text: &str) -> Result<ProtobufSchema, ParseError> {
        ProtobufSchema::parse(text, &[], ParseOptions { normalize: false, validate: true })
    }

    /// Confluent (Wire's parser) registers schemas with custom options whose extension is
    /// unknown, and keeps the options in the stored text.
    #[test]
    fn unknown_custom_options_are_accepted_and_kept() {
        let s = parse(WITH_OPTIONS).unwrap_or_else(|e| panic!("{e}"));
        for option in [
            "(file_opt)",
            "(a.b).c",
            "(msg_opt)",
            "(field_opt)",
            "(oneof_opt)",
            "(nested_opt)",
            "(enum_opt)",
            "(value_opt)",
            "(svc_opt)",
            "(method_opt)",
        ] {
            assert!(s.canonical().contains(option), "{option} missing from\n{}", s.canonical());
        }
        // The stored text reads back to itself.
        assert_eq!(parse(s.canonical()).expect("reparse").canonical(), s.canonical());
        let normalized = ProtobufSchema::parse(WITH_OPTIONS, &[], ParseOptions { normalize: true, validate: true });
        assert!(normalized.is_ok(), "{:?}", normalized.err());
        // Other errors are still reported as before.
        let bad = WITH_OPTIONS.replace("string s = 1", "Unknown s = 1");
        assert!(parse(&bad).unwrap_err().message.contains("Unknown"));
    }

    /// Unknown options take no part in compatibility: adding, changing or removing them
    /// is no difference; a real change next to them still is.
    #[test]
    fn unknown_custom_options_are_ignored_for_compatibility() {
        let with = parse(WITH_OPTIONS).expect("with options");
        let plain =
            WITH_OPTIONS.lines().filter(|l| !l.contains("option (") && !l.contains("(a.b)")).collect::<Vec<_>>();
        let plain = plain.join("\n").replace(" [(field_opt) = true]", "").replace(" [(value_opt) = \"v\"]", "");
        let without = parse(&plain).unwrap_or_else(|e| panic!("{e}\n{plain}"));
        assert!(with.differences(&without).is_empty(), "{:?}", with.differences(&without));
        assert!(without.differences(&with).is_empty());
        let changed = parse(&WITH_OPTIONS.replace("string s = 1", "int32 s = 1")).expect("changed");
        assert!(!changed.differences(&with).is_empty());
    }
}

#[cfg(test)]
mod import_order {
    use super::*;

    /// Wire's file element keeps plain and public imports apart and prints the plain ones
    /// first; normalizing sorts each list.
    #[test]
    fn plain_imports_come_before_public_ones() {
        let text = "syntax = \"proto3\";\nimport public \"z/pub.proto\";\nimport \"y/b.proto\";\nimport public \"a/pub.proto\";\nimport \"x/a.proto\";\nmessage M {\n  int32 a = 1;\n}\n";
        let imports = |normalize: bool| -> Vec<String> {
            let s = ProtobufSchema::parse(text, &[], ParseOptions { normalize, validate: true }).expect("parse");
            s.canonical().lines().filter(|l| l.starts_with("import")).map(str::to_string).collect()
        };
        let written = [
            "import \"y/b.proto\";",
            "import \"x/a.proto\";",
            "import public \"z/pub.proto\";",
            "import public \"a/pub.proto\";",
        ];
        assert_eq!(imports(false), written);
        let sorted = [
            "import \"x/a.proto\";",
            "import \"y/b.proto\";",
            "import public \"a/pub.proto\";",
            "import public \"z/pub.proto\";",
        ];
        assert_eq!(imports(true), sorted);
    }
}
