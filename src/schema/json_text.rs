//! A small JSON document model kept in an arena, read iteratively and written the way
//! Jackson writes it. Avro-Java sees schemas as Jackson trees, so its messages and
//! `Schema.toString()` depend on Jackson's number kinds (int vs double), key order and
//! escaping; an arena also means a 1000-deep document is dropped and read without recursion.

use std::fmt::Write as _;

/// Deepest JSON nesting accepted; the same default as Jackson's `StreamReadConstraints`,
/// so anything Confluent can read is readable here.
pub const MAX_JSON_DEPTH: usize = 1000;

pub type JId = usize;

/// One JSON value. Numbers keep Jackson's distinction between integral and floating nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum JNode {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond `i64`, kept as its digits (Jackson's `BigIntegerNode`).
    BigInt(String),
    Double(f64),
    Str(String),
    Arr(Vec<JId>),
    /// Keys in document order; a repeated key keeps its first position and last value, as Jackson does.
    Obj(Vec<(String, JId)>),
}

#[derive(Debug, Clone, Default)]
pub struct JsonDoc {
    nodes: Vec<JNode>,
}

impl JsonDoc {
    pub fn node(&self, id: JId) -> &JNode {
        &self.nodes[id]
    }

    pub fn push(&mut self, node: JNode) -> JId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Member `key` of an object node; `None` for other node kinds, like Jackson's `get`.
    pub fn get(&self, id: JId, key: &str) -> Option<JId> {
        match &self.nodes[id] {
            JNode::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| *v),
            _ => None,
        }
    }

    /// Jackson's `textValue()`: the string of a string node, else nothing.
    pub fn text(&self, id: JId) -> Option<&str> {
        match &self.nodes[id] {
            JNode::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get_text(&self, id: JId, key: &str) -> Option<&str> {
        self.get(id, key).and_then(|v| self.text(v))
    }

    /// Copies the subtree at `id` of `other` into this document.
    pub fn import(&mut self, other: &JsonDoc, id: JId) -> JId {
        // Iterative post-order copy so deep values cannot exhaust the stack.
        enum Step {
            Enter(JId),
            Build(JId),
        }
        let mut steps = vec![Step::Enter(id)];
        let mut built: Vec<JId> = Vec::new();
        while let Some(step) = steps.pop() {
            match step {
                Step::Enter(i) => match &other.nodes[i] {
                    JNode::Arr(items) => {
                        steps.push(Step::Build(i));
                        steps.extend(items.iter().rev().map(|c| Step::Enter(*c)));
                    }
                    JNode::Obj(members) => {
                        steps.push(Step::Build(i));
                        steps.extend(members.iter().rev().map(|(_, c)| Step::Enter(*c)));
                    }
                    leaf => {
                        let n = self.push(leaf.clone());
                        built.push(n);
                    }
                },
                Step::Build(i) => {
                    let node = match &other.nodes[i] {
                        JNode::Arr(items) => {
                            let kids = built.split_off(built.len() - items.len());
                            JNode::Arr(kids)
                        }
                        JNode::Obj(members) => {
                            let kids = built.split_off(built.len() - members.len());
                            JNode::Obj(members.iter().map(|(k, _)| k.clone()).zip(kids).collect())
                        }
                        leaf => leaf.clone(),
                    };
                    let n = self.push(node);
                    built.push(n);
                }
            }
        }
        built.pop().unwrap_or_else(|| self.push(JNode::Null))
    }

    /// Compact JSON of the subtree, as Jackson's `JsonNode.toString()` prints it.
    pub fn to_json(&self, id: JId) -> String {
        let mut out = String::new();
        self.write(id, &mut out);
        out
    }

    /// Iterative writer (no recursion on deep values).
    /// Sorts the members of every object by key, in Java `String` order (UTF-16 code
    /// units), as Jackson's `ORDER_MAP_ENTRIES_BY_KEYS` does for a normalized JSON Schema.
    pub fn sort_keys(&mut self) {
        for node in &mut self.nodes {
            if let JNode::Obj(members) = node {
                members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            }
        }
    }

    pub fn write(&self, id: JId, out: &mut String) {
        enum Step<'a> {
            Value(JId),
            Raw(&'static str),
            Key(&'a str),
        }
        let mut steps = vec![Step::Value(id)];
        while let Some(step) = steps.pop() {
            match step {
                Step::Raw(s) => out.push_str(s),
                Step::Key(k) => {
                    write_str(k, out);
                    out.push(':');
                }
                Step::Value(i) => match &self.nodes[i] {
                    JNode::Null => out.push_str("null"),
                    JNode::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                    JNode::Int(n) => {
                        let _ = write!(out, "{n}");
                    }
                    JNode::BigInt(d) => out.push_str(d),
                    JNode::Double(d) => write_double(*d, out),
                    JNode::Str(s) => write_str(s, out),
                    JNode::Arr(items) => {
                        out.push('[');
                        steps.push(Step::Raw("]"));
                        for (n, c) in items.iter().enumerate().rev() {
                            steps.push(Step::Value(*c));
                            if n > 0 {
                                steps.push(Step::Raw(","));
                            }
                        }
                    }
                    JNode::Obj(members) => {
                        out.push('{');
                        steps.push(Step::Raw("}"));
                        for (n, (k, c)) in members.iter().enumerate().rev() {
                            steps.push(Step::Value(*c));
                            steps.push(Step::Key(k));
                            if n > 0 {
                                steps.push(Step::Raw(","));
                            }
                        }
                    }
                },
            }
        }
    }
}

/// A JSON string literal with Jackson's escaping (short escapes for the usual controls,
/// `\u00XX` with upper-case hex for the rest, nothing else escaped).
pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString` (shortest digits), which is how Jackson writes a double node;
/// non-finite values are quoted, as Jackson does by default.
pub fn write_double(d: f64, out: &mut String) {
    if d.is_nan() {
        out.push_str("\"NaN\"");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" });
    } else {
        java_decimal(&format!("{d:e}"), d == 0.0, out);
    }
}

/// Java's `Float.toString` digits for a value that Avro holds as a `float`.
pub fn write_float(f: f32, out: &mut String) {
    if f.is_nan() {
        out.push_str("\"NaN\"");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" });
    } else {
        java_decimal(&format!("{f:e}"), f == 0.0, out);
    }
}

/// Lays out Rust's shortest scientific form (`-1.25e-4`) the way Java does: plain decimal for
/// 1e-3 <= |x| < 1e7, else `d.dddE<exp>`, always with a fractional digit.
fn java_decimal(sci: &str, zero: bool, out: &mut String) {
    let (neg, body) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    if neg {
        out.push('-');
    }
    if zero {
        out.push_str("0.0");
        return;
    }
    let (mant, exp) = body.split_once('e').unwrap_or((body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    if (-3..7).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        let _ = write!(out, "E{exp}");
    }
}

/// Reads one JSON value from `text`; returns the document, its root and the unread rest.
pub fn parse(text: &str) -> Result<(JsonDoc, JId, &str), String> {
    let mut p = Reader { s: text.as_bytes(), i: 0, doc: JsonDoc::default() };
    let root = p.value()?;
    let rest = &text[p.i..];
    Ok((p.doc, root, rest))
}

enum Frame {
    Arr(Vec<JId>),
    Obj(Vec<(String, JId)>, String),
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
    doc: JsonDoc,
}

impl Reader<'_> {
    fn err(&self, what: &str) -> String {
        let before = &self.s[..self.i.min(self.s.len())];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        format!("Invalid JSON: {what} at line {line}, column {col}")
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    /// Iterative value reader with an explicit stack of open containers.
    fn value(&mut self) -> Result<JId, String> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // Read a value start (scalar or open a container).
            let mut done: Option<JId> = None;
            match self.peek() {
                None => {
                    return Err(if self.s.iter().all(|b| b.is_ascii_whitespace()) && stack.is_empty() {
                        "No content to map due to end-of-input".to_string()
                    } else {
                        self.err("unexpected end of input")
                    })
                }
                Some(b'[') | Some(b'{') => {
                    if stack.len() >= MAX_JSON_DEPTH {
                        return Err(format!(
                            "Schema JSON nesting depth exceeds the maximum allowed ({MAX_JSON_DEPTH})"
                        ));
                    }
                    let open = self.s[self.i];
                    self.i += 1;
                    if open == b'[' {
                        if self.peek() == Some(b']') {
                            self.i += 1;
                            done = Some(self.doc.push(JNode::Arr(Vec::new())));
                        } else {
                            stack.push(Frame::Arr(Vec::new()));
                        }
                    } else if self.peek() == Some(b'}') {
                        self.i += 1;
                        done = Some(self.doc.push(JNode::Obj(Vec::new())));
                    } else {
                        let key = self.key()?;
                        stack.push(Frame::Obj(Vec::new(), key));
                    }
                }
                Some(_) => done = Some(self.scalar()?),
            }
            // Close as many containers as the finished value completes.
            let Some(mut v) = done else { continue };
            loop {
                match stack.last_mut() {
                    None => return Ok(v),
                    Some(Frame::Arr(items)) => {
                        items.push(v);
                        match self.peek() {
                            Some(b',') => {
                                self.i += 1;
                                break;
                            }
                            Some(b']') => {
                                self.i += 1;
                                let Some(Frame::Arr(items)) = stack.pop() else { unreachable!() };
                                v = self.doc.push(JNode::Arr(items));
                            }
                            _ => return Err(self.err("expected ',' or ']'")),
                        }
                    }
                    Some(Frame::Obj(members, key)) => {
                        let key = std::mem::take(key);
                        if let Some(slot) = members.iter_mut().find(|(k, _)| *k == key) {
                            slot.1 = v;
                        } else {
                            members.push((key, v));
                        }
                        match self.peek() {
                            Some(b',') => {
                                self.i += 1;
                                let next = self.key()?;
                                if let Some(Frame::Obj(_, k)) = stack.last_mut() {
                                    *k = next;
                                }
                                break;
                            }
                            Some(b'}') => {
                                self.i += 1;
                                let Some(Frame::Obj(members, _)) = stack.pop() else { unreachable!() };
                                v = self.doc.push(JNode::Obj(members));
                            }
                            _ => return Err(self.err("expected ',' or '}'")),
                        }
                    }
                }
            }
        }
    }

    fn key(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a field name"));
        }
        let k = self.string()?;
        if self.peek() != Some(b':') {
            return Err(self.err("expected ':'"));
        }
        self.i += 1;
        Ok(k)
    }

    fn scalar(&mut self) -> Result<JId, String> {
        let node = match self.s[self.i] {
            b'"' => JNode::Str(self.string()?),
            b't' if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                JNode::Bool(true)
            }
            b'f' if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                JNode::Bool(false)
            }
            b'n' if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                JNode::Null
            }
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return Err(self.err("unrecognized token")),
        };
        Ok(self.doc.push(node))
    }

    fn number(&mut self) -> Result<JNode, String> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let st = r.i;
            while r.i < r.s.len() && r.s[r.i].is_ascii_digit() {
                r.i += 1;
            }
            r.i - st
        };
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let int_start = self.i;
        if digits(self) == 0 {
            return Err(self.err("invalid number"));
        }
        if self.s[int_start] == b'0' && self.i - int_start > 1 {
            return Err(self.err("leading zeroes not allowed"));
        }
        let mut float = false;
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            float = true;
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.s.get(self.i), Some(b'e') | Some(b'E')) {
            self.i += 1;
            float = true;
            if matches!(self.s.get(self.i), Some(b'+') | Some(b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid number"))?;
        if float {
            return text.parse::<f64>().map(JNode::Double).map_err(|_| self.err("invalid number"));
        }
        Ok(match text.parse::<i64>() {
            Ok(n) => JNode::Int(n),
            Err(_) => JNode::BigInt(text.to_string()),
        })
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.s.len() && !matches!(self.s[self.i], b'"' | b'\\') && self.s[self.i] >= 0x20 {
                self.i += 1;
            }
            // The input is a &str, and we only stop at ASCII bytes, so this slice is valid UTF-8.
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid UTF-8"))?);
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{08}'),
                        b'f' => out.push('\u{0c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.i) == Some(&b'\\')
                                && self.s.get(self.i + 1) == Some(&b'u')
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            // Lone surrogates cannot live in a Rust string; Java keeps them, we substitute.
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                Some(_) => return Err(self.err("illegal unquoted control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self.s.get(self.i..self.i + 4).ok_or_else(|| self.err("invalid escape"))?;
        let h = std::str::from_utf8(h).map_err(|_| self.err("invalid escape"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("invalid escape"))?;
        self.i += 4;
        Ok(v)
    }
}
