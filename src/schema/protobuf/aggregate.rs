//! Aggregate (message-valued) option values such as `(confluent.field_meta) = { tags: ["PII"] }`:
//! read from protox's token text and printed the way Confluent (Square Wire) prints them,
//! one entry a line, `,` between entries; built and edited for schema tags.

/// A text-format value: a quoted string, a bare token (number, enum, bool), a message, or a list.
#[derive(Clone, Debug, PartialEq)]
pub enum Aggregate {
    Str(String),
    Bare(String),
    Message(Vec<(String, Aggregate)>),
    List(Vec<Aggregate>),
}

/// Nesting beyond this is refused; the parser recurses per level.
const MAX_DEPTH: usize = 32;

impl Aggregate {
    /// Parses the body of an aggregate (the text between its braces).
    pub fn parse(text: &str) -> Option<Aggregate> {
        let tokens = tokenize(text)?;
        let mut p = Parser { tokens, pos: 0 };
        let fields = p.message(None, 0)?;
        (p.pos == p.tokens.len()).then_some(Aggregate::Message(fields))
    }

    /// Wire's layout: `{` + indented `key: value` lines joined by `,` + `}`.
    pub fn to_wire(&self) -> String {
        match self {
            Aggregate::Str(s) => super::print::quote(s),
            Aggregate::Bare(s) => s.clone(),
            Aggregate::Message(fields) => {
                let items: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {}", v.to_wire())).collect();
                block('{', '}', &items)
            }
            Aggregate::List(items) => {
                let items: Vec<String> = items.iter().map(Aggregate::to_wire).collect();
                block('[', ']', &items)
            }
        }
    }

    /// The compact text-format form stored as an uninterpreted option's aggregate value (the
    /// outermost message without its braces, as protox stores it).
    pub fn to_text(&self) -> String {
        match self {
            Aggregate::Message(fields) => {
                let items: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {}", v.nested_text())).collect();
                items.join(" ")
            }
            other => other.nested_text(),
        }
    }

    fn nested_text(&self) -> String {
        match self {
            Aggregate::Str(s) => super::print::quote(s),
            Aggregate::Bare(s) => s.clone(),
            Aggregate::Message(_) => format!("{{ {} }}", self.to_text()),
            Aggregate::List(items) => {
                format!("[{}]", items.iter().map(Aggregate::nested_text).collect::<Vec<_>>().join(", "))
            }
        }
    }
}

fn block(open: char, close: char, items: &[String]) -> String {
    let mut out = String::new();
    out.push(open);
    out.push('\n');
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        for line in format!("{item}{sep}").lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push(close);
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Str(String),
    Word(String),
    Punct(char),
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next()? {
                    '\\' => match chars.next()? {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        'r' => s.push('\r'),
                        other => s.push(other),
                    },
                    q if q == c => break,
                    other => s.push(other),
                }
            }
            out.push(Token::Str(s));
        } else if "{}[]<>:,;".contains(c) {
            chars.next();
            out.push(Token::Punct(c));
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "{}[]<>:,;\"'".contains(c) {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(Token::Word(w));
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Fields until `close` (or the end when `None`).
    fn message(&mut self, close: Option<char>, depth: usize) -> Option<Vec<(String, Aggregate)>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut fields = Vec::new();
        loop {
            match (self.peek(), close) {
                (None, None) => return Some(fields),
                (None, Some(_)) => return None,
                (Some(Token::Punct(c)), Some(want)) if *c == want => {
                    self.pos += 1;
                    return Some(fields);
                }
                _ => {}
            }
            let name = match self.next()? {
                Token::Word(w) => w,
                Token::Punct('[') => {
                    let mut parts = Vec::new();
                    loop {
                        match self.next()? {
                            Token::Punct(']') => break,
                            Token::Word(w) => parts.push(w),
                            _ => return None,
                        }
                    }
                    format!("[{}]", parts.join(""))
                }
                _ => return None,
            };
            let colon = self.eat(':');
            let value = self.value(depth + 1)?;
            if !colon && !matches!(value, Aggregate::Message(_)) {
                return None;
            }
            fields.push((name, value));
            if !self.eat(',') {
                self.eat(';');
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Aggregate> {
        match self.next()? {
            Token::Str(mut s) => {
                while let Some(Token::Str(more)) = self.peek().cloned() {
                    s.push_str(&more);
                    self.pos += 1;
                }
                Some(Aggregate::Str(s))
            }
            Token::Word(w) if w == "-" => match self.next()? {
                Token::Word(n) => Some(Aggregate::Bare(format!("-{n}"))),
                _ => None,
            },
            Token::Word(w) => Some(Aggregate::Bare(w)),
            Token::Punct('{') => self.message(Some('}'), depth).map(Aggregate::Message),
            Token::Punct('<') => self.message(Some('>'), depth).map(Aggregate::Message),
            Token::Punct('[') => {
                let mut items = Vec::new();
                if self.eat(']') {
                    return Some(Aggregate::List(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(']') {
                        return Some(Aggregate::List(items));
                    }
                    if !self.eat(',') {
                        return None;
                    }
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_protox_tokens_and_prints_wire_layout() {
        let a =
            Aggregate::parse("tags : [ \"PII\" , \"X\" ] doc : \"d\" params { key : \"k\" value : \"v\" }").unwrap();
        assert_eq!(
            a.to_wire(),
            "{\n  tags: [\n    \"PII\",\n    \"X\"\n  ],\n  doc: \"d\",\n  params: {\n    key: \"k\",\n    value: \"v\"\n  }\n}"
        );
        assert_eq!(Aggregate::parse(&a.to_text()), Some(a));
        assert!(Aggregate::parse("tags : [").is_none());
        assert!(Aggregate::parse(&"a { ".repeat(100)).is_none());
    }
}
