//! Request-body decoding: the input's first line is the Content-Type header (absent when the
//! input has no newline), the rest the body. The body goes through the media-type check, the
//! encoding detection (UTF-8/16/32, byte-order marks) and JSON parsing, then every request
//! shape an endpoint reads (register, config, mode, root map, tags). No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, data),
    };
    schemata::api::fuzzing::request_body(content_type, body);
});
