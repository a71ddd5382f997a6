//! Import resolution for Protobuf schemas: the schema itself, its schema references (by
//! import path), the well-known files Confluent builds in, and, as Confluent tolerates, an
//! empty stand-in for an import nothing else provides (a type used from it still fails).

use std::collections::HashMap;

use prost_types::FileDescriptorProto;
use protox::file::{File, FileResolver, GoogleFileResolver};

/// The file name the registered schema itself gets, as in Confluent's serialized form.
pub const ROOT_NAME: &str = "default";

/// The `google/type` and `confluent` files Confluent resolves without registration
/// (`google/protobuf/*` comes with protox).
const EMBEDDED: &[(&str, &str)] = &[
    ("confluent/meta.proto", include_str!("wellknown/confluent/meta.proto")),
    ("confluent/type/decimal.proto", include_str!("wellknown/confluent/type/decimal.proto")),
    ("google/type/calendar_period.proto", include_str!("wellknown/google/type/calendar_period.proto")),
    ("google/type/color.proto", include_str!("wellknown/google/type/color.proto")),
    ("google/type/date.proto", include_str!("wellknown/google/type/date.proto")),
    ("google/type/datetime.proto", include_str!("wellknown/google/type/datetime.proto")),
    ("google/type/dayofweek.proto", include_str!("wellknown/google/type/dayofweek.proto")),
    ("google/type/decimal.proto", include_str!("wellknown/google/type/decimal.proto")),
    ("google/type/expr.proto", include_str!("wellknown/google/type/expr.proto")),
    ("google/type/fraction.proto", include_str!("wellknown/google/type/fraction.proto")),
    ("google/type/interval.proto", include_str!("wellknown/google/type/interval.proto")),
    ("google/type/latlng.proto", include_str!("wellknown/google/type/latlng.proto")),
    ("google/type/localized_text.proto", include_str!("wellknown/google/type/localized_text.proto")),
    ("google/type/money.proto", include_str!("wellknown/google/type/money.proto")),
    ("google/type/month.proto", include_str!("wellknown/google/type/month.proto")),
    ("google/type/phone_number.proto", include_str!("wellknown/google/type/phone_number.proto")),
    ("google/type/postal_address.proto", include_str!("wellknown/google/type/postal_address.proto")),
    ("google/type/quaternion.proto", include_str!("wellknown/google/type/quaternion.proto")),
    ("google/type/timeofday.proto", include_str!("wellknown/google/type/timeofday.proto")),
];

/// True for an import the server resolves itself; such imports need no schema reference.
pub fn is_well_known(name: &str) -> bool {
    name.starts_with("google/protobuf/") || EMBEDDED.iter().any(|(n, _)| *n == name)
}

/// Serves the root descriptor, the referenced files and the built-in ones to protox.
pub struct Resolver {
    pub root: FileDescriptorProto,
    /// Referenced files by import path; a reference's own imports resolve here too.
    pub references: HashMap<String, String>,
    /// Drop custom options other than Confluent's from the references (see `link`).
    pub lenient: bool,
    google: GoogleFileResolver,
}

impl Resolver {
    pub fn new(root: FileDescriptorProto, references: &[(&str, &str)]) -> Resolver {
        let references = references.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        Resolver { root, references, lenient: false, google: GoogleFileResolver::new() }
    }
}

impl FileResolver for Resolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == ROOT_NAME {
            return Ok(File::from_file_descriptor_proto(self.root.clone()));
        }
        if let Some(text) = self.references.get(name) {
            // A stored reference may itself be a descriptor registered in base64 form.
            return match super::parse_root(name, text) {
                Ok(mut file) => {
                    if self.lenient {
                        super::normalize::strip_custom_options(&mut file, super::not_confluent);
                    }
                    Ok(File::from_file_descriptor_proto(file))
                }
                Err(e) => Err(protox::Error::new(std::io::Error::other(e))),
            };
        }
        if let Some((_, source)) = EMBEDDED.iter().find(|(n, _)| *n == name) {
            return File::from_source(name, source);
        }
        match self.google.open_file(name) {
            Ok(file) => Ok(file),
            // Confluent accepts an import it cannot find as long as no type from it is used.
            Err(e) if e.is_file_not_found() => Ok(File::from_file_descriptor_proto(FileDescriptorProto {
                name: Some(name.to_string()),
                ..Default::default()
            })),
            Err(e) => Err(e),
        }
    }
}
