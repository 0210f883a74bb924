//! A document tree that remembers how each scalar was written.
//!
//! Flipt decodes declarative files with Go's `yaml.v3` into typed structs. Two
//! of its rules change what a flag means and are lost by any "parse to a generic
//! value" step:
//!
//! - a string field keeps the scalar's text as written: `value: 1.10` is the
//!   string `1.10`, not the number 1.1, and `key: on` is the key `on`;
//! - only `true`/`false` (any case variant of YAML 1.2 core) are booleans in
//!   untyped data such as attachments; `yes`/`no`/`on`/`off`/`y`/`n` are strings
//!   there, yet a typed boolean field still accepts them.
//!
//! [`parse_yaml`] therefore builds a [`Node`] tree straight from the events of
//! `granit-parser` (the YAML parser serde-saphyr is built on), keeping each
//! scalar's text and resolving untyped values with yaml.v3's rules: YAML 1.2
//! booleans and nulls, Go base-0 integers (`010` is 8, `0x1F` is 31,
//! underscores ignored), yaml.v3's float pattern, merge keys (`<<`), anchors
//! and aliases (bounded, against alias bombs), and duplicate keys as errors.
//! Going through serde would lose the text and cost twice the time.
//! [`from_json`] converts JSON files, where there is no such ambiguity.

use std::fmt;

use std::collections::HashMap;

use serde_json::Value;

use crate::goparse::parse_float;

/// One node of a parsed document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool {
        value: bool,
        text: String,
    },
    Number {
        value: f64,
        exact: Option<serde_json::Number>,
        text: String,
    },
    Str {
        value: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// A phrase naming the kind of node, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool { .. } => "a boolean",
            Self::Number { .. } => "a number",
            Self::Str { .. } => "a string",
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }

    /// The value of `key` in a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Self::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text a Go string field would receive for this scalar.
    pub(crate) fn scalar_text(&self) -> Option<&str> {
        match self {
            Self::Str { value, .. } => Some(value),
            Self::Bool { text, .. } | Self::Number { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value a Go `bool` field would receive (YAML 1.1 spellings included).
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool { value, .. } => Some(*value),
            Self::Str {
                value,
                quoted: false,
            } => match value.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The untyped value (as Go's `interface{}` decoding gives it), for
    /// attachments and metadata; `None` when it holds a non-finite number,
    /// which Go's JSON encoder rejects.
    pub(crate) fn to_json(&self) -> Option<Value> {
        Some(match self {
            Self::Null => Value::Null,
            Self::Bool { value, .. } => Value::Bool(*value),
            Self::Number { exact: Some(n), .. } => Value::Number(n.clone()),
            Self::Number { value, .. } => Value::Number(serde_json::Number::from_f64(*value)?),
            Self::Str { value, .. } => Value::String(value.clone()),
            Self::Seq(items) => {
                Value::Array(items.iter().map(Self::to_json).collect::<Option<_>>()?)
            }
            Self::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
}

/// Most nodes one parse may build, aliases expanded (a guard against alias bombs).
const MAX_NODES: usize = 10_000_000;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 256;

type Event<'a> = granit_parser::Event<'a>;
type Span = granit_parser::Span;

struct Builder<'a> {
    parser: granit_parser::Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

fn at(span: &Span, message: impl fmt::Display) -> String {
    format!(
        "line {} column {}: {message}",
        span.start.line(),
        span.start.col() + 1
    )
}

impl<'a> Builder<'a> {
    /// The next event that matters (comments and anchor metadata skipped).
    fn next(&mut self) -> Result<(Event<'a>, Span), String> {
        loop {
            match self.parser.next_event() {
                None => return Err("unexpected end of input".to_owned()),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok((ev, span))) => {
                    if ev.is_node() || matches!(ev, Event::SequenceEnd | Event::MappingEnd) {
                        return Ok((ev, span));
                    }
                    // Comments and anchor metadata carry no data.
                }
            }
        }
    }

    fn count(&mut self, n: usize, span: &Span) -> Result<(), String> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(at(
                span,
                format!("document too large (more than {MAX_NODES} nodes, aliases expanded)"),
            ));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    /// Builds the node that starts with `ev`.
    fn node(&mut self, ev: Event<'a>, span: Span, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(at(&span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.count(1, &span)?;
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let node = scalar(&value, style, tag.as_deref()).map_err(|m| at(&span, m))?;
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, sp, depth + 1)?);
                }
                let node = Node::Seq(items);
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(_, anchor, _) => {
                let mut entries: Vec<(String, Node)> = Vec::new();
                let mut merged: Vec<(String, Node)> = Vec::new();
                loop {
                    let (kev, ksp) = self.next()?;
                    if matches!(kev, Event::MappingEnd) {
                        break;
                    }
                    let is_merge = matches!(&kev, Event::Scalar(v, granit_parser::ScalarStyle::Plain, _, None) if v == "<<");
                    let key = match self.node(kev, ksp, depth + 1)? {
                        Node::Null => String::new(),
                        k => match k.scalar_text() {
                            Some(t) => t.to_owned(),
                            None => return Err(at(&ksp, "mapping keys must be scalars")),
                        },
                    };
                    let (vev, vsp) = self.next()?;
                    let value = self.node(vev, vsp, depth + 1)?;
                    if is_merge {
                        // YAML merge keys, as yaml.v3 supports them: explicit keys win.
                        let sources = match value {
                            Node::Map(m) => vec![m],
                            Node::Seq(items) => items
                                .into_iter()
                                .map(|i| match i {
                                    Node::Map(m) => Ok(m),
                                    _ => Err(at(
                                        &vsp,
                                        "map merge requires a mapping or a list of mappings",
                                    )),
                                })
                                .collect::<Result<_, _>>()?,
                            _ => {
                                return Err(at(
                                    &vsp,
                                    "map merge requires a mapping or a list of mappings",
                                ));
                            }
                        };
                        for m in sources {
                            for (k, v) in m {
                                if !merged.iter().any(|(mk, _)| *mk == k) {
                                    merged.push((k, v));
                                }
                            }
                        }
                        continue;
                    }
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(at(&ksp, format!("mapping key {key:?} already defined")));
                    }
                    entries.push((key, value));
                }
                for (k, v) in merged {
                    if !entries.iter().any(|(ek, _)| *ek == k) {
                        entries.push((k, v));
                    }
                }
                let node = Node::Map(entries);
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::Alias(id) => {
                let size = self
                    .anchors
                    .get(&id)
                    .map(Node::size)
                    .ok_or_else(|| at(&span, "unknown anchor"))?;
                // Count before copying, so an alias bomb stops before it allocates.
                self.count(size, &span)?;
                Ok(self.anchors.get(&id).cloned().unwrap_or(Node::Null))
            }
            Event::UnresolvedAlias(name) => Err(at(&span, format!("unknown anchor {name:?}"))),
            _ => Err(at(&span, "unexpected YAML event")),
        }
    }
}

impl Node {
    /// Number of nodes in this subtree.
    fn size(&self) -> usize {
        match self {
            Self::Seq(items) => 1 + items.iter().map(Self::size).sum::<usize>(),
            Self::Map(entries) => 1 + entries.iter().map(|(_, v)| 1 + v.size()).sum::<usize>(),
            _ => 1,
        }
    }
}

/// Resolves a scalar as yaml.v3 does for untyped data.
fn scalar(
    value: &str,
    style: granit_parser::ScalarStyle,
    tag: Option<&granit_parser::Tag>,
) -> Result<Node, String> {
    let plain = style == granit_parser::ScalarStyle::Plain;
    let text = || Node::Str {
        value: value.to_owned(),
        quoted: !plain,
    };
    match tag.and_then(granit_parser::Tag::core_suffix) {
        Some("str") | Some("binary") => return Ok(text()),
        Some("null") => return Ok(Node::Null),
        Some("bool") => {
            return match value {
                "true" | "True" | "TRUE" => Ok(Node::Bool {
                    value: true,
                    text: value.to_owned(),
                }),
                "false" | "False" | "FALSE" => Ok(Node::Bool {
                    value: false,
                    text: value.to_owned(),
                }),
                _ => Err(format!("cannot decode {value:?} as a !!bool")),
            };
        }
        Some(t @ ("int" | "float")) => {
            return match resolve_plain(value) {
                n @ Node::Number { .. } => Ok(n),
                _ => Err(format!("cannot decode {value:?} as a !!{t}")),
            };
        }
        _ => {}
    }
    Ok(if plain { resolve_plain(value) } else { text() })
}

/// yaml.v3's implicit resolution of a plain scalar.
fn resolve_plain(s: &str) -> Node {
    let number = |value: f64, exact: Option<serde_json::Number>| Node::Number {
        value,
        exact,
        text: s.to_owned(),
    };
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Node::Null,
        "true" | "True" | "TRUE" => {
            return Node::Bool {
                value: true,
                text: s.to_owned(),
            };
        }
        "false" | "False" | "FALSE" => {
            return Node::Bool {
                value: false,
                text: s.to_owned(),
            };
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return number(f64::INFINITY, None);
        }
        "-.inf" | "-.Inf" | "-.INF" => return number(f64::NEG_INFINITY, None),
        ".nan" | ".NaN" | ".NAN" => return number(f64::NAN, None),
        _ => {}
    }
    if !s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
        return Node::Str {
            value: s.to_owned(),
            quoted: false,
        };
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(n) = go_parse_int(&plain) {
        return number(n as f64, Some(n.into()));
    }
    if let Some(u) = plain
        .strip_prefix('+')
        .or(Some(&plain))
        .and_then(go_parse_uint)
    {
        return number(u as f64, Some(u.into()));
    }
    if is_yaml_float(&plain)
        && let Some(f) = parse_float(&plain)
    {
        return number(f, None);
    }
    Node::Str {
        value: s.to_owned(),
        quoted: false,
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)` (no sign).
fn go_parse_uint(s: &str) -> Option<u64> {
    let lower = s.get(..2).map(str::to_ascii_lowercase);
    let (digits, radix) = match lower.as_deref() {
        Some("0x") => (&s[2..], 16),
        Some("0o") => (&s[2..], 8),
        Some("0b") => (&s[2..], 2),
        _ if s.len() > 1 && s.starts_with('0') => (&s[1..], 8),
        _ => (s, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(body)?;
    if neg {
        0i64.checked_sub_unsigned(u)
    } else {
        i64::try_from(u).ok()
    }
}

/// yaml.v3's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Parses a YAML stream into one node per non-empty document.
pub(crate) fn parse_yaml(text: &str) -> Result<Vec<Node>, String> {
    let mut b = Builder {
        parser: granit_parser::Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
    };
    let mut docs = Vec::new();
    loop {
        match b.parser.next_event() {
            None | Some(Ok((Event::StreamEnd, _))) => break,
            Some(Err(e)) => return Err(e.to_string()),
            Some(Ok((
                ev @ (Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(..)),
                span,
            ))) => {
                let node = b.node(ev, span, 0)?;
                if node != Node::Null {
                    docs.push(node);
                }
            }
            Some(Ok(_)) => {}
        }
    }
    Ok(docs)
}

/// Converts a JSON value into a node.
pub(crate) fn from_json(v: Value) -> Node {
    match v {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool {
            value: b,
            text: b.to_string(),
        },
        Value::Number(n) => Node::Number {
            value: n.as_f64().unwrap_or(f64::NAN),
            exact: (n.is_i64() || n.is_u64()).then(|| n.clone()),
            text: n.to_string(),
        },
        Value::String(s) => Node::Str {
            value: s,
            quoted: true,
        },
        Value::Array(items) => Node::Seq(items.into_iter().map(from_json).collect()),
        Value::Object(map) => Node::Map(map.into_iter().map(|(k, v)| (k, from_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_their_written_text() {
        let docs = parse_yaml("a: 1.10\nb: on\nc: [0x1F, +5, 'q', ~, yes]\n---\nz: 1e3\n").unwrap();
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.get("a").unwrap().scalar_text(), Some("1.10"));
        assert_eq!(d.get("b").unwrap().scalar_text(), Some("on"));
        assert_eq!(d.get("b").unwrap().as_bool(), Some(true));
        assert_eq!(
            d.get("b").unwrap().to_json(),
            Some(Value::String("on".into()))
        );
        let Node::Seq(c) = d.get("c").unwrap() else {
            panic!()
        };
        assert_eq!(c[0].to_json(), Some(Value::from(31)));
        assert_eq!(c[0].scalar_text(), Some("0x1F"));
        assert_eq!(c[1].scalar_text(), Some("+5"));
        assert_eq!(
            c[2],
            Node::Str {
                value: "q".into(),
                quoted: true
            }
        );
        assert_eq!(c[2].as_bool(), None);
        assert_eq!(c[3], Node::Null);
        assert_eq!(c[4].as_bool(), Some(true));
        assert_eq!(docs[1].get("z").unwrap().scalar_text(), Some("1e3"));
    }

    #[test]
    fn integers_follow_go_yaml() {
        let docs = parse_yaml("a: 010\nb: 18446744073709551615\nc: 1_000\n").unwrap();
        assert_eq!(docs[0].get("a").unwrap().to_json(), Some(Value::from(8)));
        assert_eq!(docs[0].get("a").unwrap().scalar_text(), Some("010"));
        assert_eq!(
            docs[0].get("b").unwrap().to_json(),
            Some(Value::from(u64::MAX))
        );
        assert_eq!(docs[0].get("c").unwrap().to_json(), Some(Value::from(1000)));
    }

    #[test]
    fn large_documents_are_accepted() {
        let mut y = String::from("items:\n");
        for i in 0..300_000 {
            y.push_str(&format!("  - {i}\n"));
        }
        let docs = parse_yaml(&y).unwrap();
        let Some(Node::Seq(items)) = docs[0].get("items") else {
            panic!()
        };
        assert_eq!(items.len(), 300_000);
    }

    #[test]
    fn non_finite_numbers_have_no_json() {
        // yaml.v3 reads `.nan`, but Go's JSON encoder cannot write it, so an
        // attachment holding one can never be served (the loader reports it).
        let docs = parse_yaml("a: [.nan, .inf]").unwrap();
        assert_eq!(docs[0].to_json(), None);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let docs =
            parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b]\n").unwrap();
        let d = &docs[0];
        assert_eq!(
            d.get("use").unwrap().to_json(),
            Some(serde_json::json!({"y": 3, "x": 1}))
        );
        assert_eq!(
            d.get("list").unwrap().to_json(),
            Some(serde_json::json!([{"x": 1, "y": 2}]))
        );
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for bad in [
            "a: 1\na: 2\n",
            "a: *nope\n",
            "a: [1, 2\n",
            "? [a]\n: 1\n",
            "a: !!int abc\n",
            "<<: 5\n",
            &"[".repeat(300),
        ] {
            assert!(parse_yaml(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            y.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        let err = parse_yaml(&y).unwrap_err();
        assert!(err.contains("too large"), "{err}");
    }

    #[test]
    fn scalar_resolution_follows_yaml_v3() {
        let docs = parse_yaml(
            "[~, null, '', True, yes, 0b101, 0o17, -0x10, 1e3, .5, 08, 1_000, 12abc, '1']",
        )
        .unwrap();
        let Node::Seq(items) = &docs[0] else { panic!() };
        let json: Vec<Value> = items.iter().map(|n| n.to_json().unwrap()).collect();
        assert_eq!(
            json,
            [
                Value::Null,
                Value::Null,
                Value::from(""),
                Value::from(true),
                Value::from("yes"),
                Value::from(5),
                Value::from(15),
                Value::from(-16),
                Value::from(1000.0),
                Value::from(0.5),
                Value::from(8.0),
                Value::from(1000),
                Value::from("12abc"),
                Value::from("1"),
            ]
        );
    }
}
