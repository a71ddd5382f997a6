//! The 20-field record both codec benches encode and decode: its schema and one value.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Wide {
    pub f0: i32,
    pub f1: i64,
    pub f2: String,
    pub f3: Option<String>,
    pub f4: f64,
    pub f5: i32,
    pub f6: i64,
    pub f7: String,
    pub f8: Option<String>,
    pub f9: f64,
    pub f10: i32,
    pub f11: i64,
    pub f12: String,
    pub f13: Option<String>,
    pub f14: f64,
    pub f15: i32,
    pub f16: i64,
    pub f17: String,
    pub f18: Option<String>,
    pub f19: f64,
}

pub fn schema() -> String {
    let types = ["\"int\"", "\"long\"", "\"string\"", r#"["null","string"]"#, "\"double\""];
    let fields: Vec<String> =
        (0..20).map(|i| format!(r#"{{"name":"f{i}","type":{}}}"#, types[i % types.len()])).collect();
    format!(r#"{{"type":"record","name":"Wide","namespace":"bench","fields":[{}]}}"#, fields.join(","))
}

pub fn value() -> Wide {
    let s = |i: i32| format!("value number {i}");
    Wide {
        f0: 1,
        f1: 1_700_000_000_000,
        f2: s(2),
        f3: Some(s(3)),
        f4: 0.5,
        f5: -7,
        f6: 42,
        f7: s(7),
        f8: None,
        f9: 1e10,
        f10: 100_000,
        f11: -1,
        f12: s(12),
        f13: Some(s(13)),
        f14: -2.25,
        f15: 0,
        f16: i64::MAX,
        f17: s(17),
        f18: None,
        f19: 3.0,
    }
}
