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
//! [`parse_yaml`] therefore builds a [`Node`] tree from serde-saphyr (YAML 1.2
//! booleans only) and recovers each non-string scalar's source text from its byte
//! span. [`from_json`] does the same for JSON files, where there is no such
//! ambiguity.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

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
        int: Option<i64>,
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
            Self::Number { int: Some(i), .. } => Value::from(*i),
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

/// A node as deserialized, before source text is attached.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(String, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YAML node")
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Raw, D2::Error> {
                Raw::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Raw, E> {
                Ok(Raw::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Raw, E> {
                Ok(i64::try_from(u).map_or(Raw::Float(u as f64), Raw::Int))
            }
            fn visit_i128<E>(self, i: i128) -> Result<Raw, E> {
                Ok(i64::try_from(i).map_or(Raw::Float(i as f64), Raw::Int))
            }
            fn visit_u128<E>(self, u: u128) -> Result<Raw, E> {
                Ok(i64::try_from(u).map_or(Raw::Float(u as f64), Raw::Int))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Raw, E> {
                Ok(Raw::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Raw, E> {
                Ok(Raw::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Raw, E> {
                Ok(Raw::Str(s))
            }
            fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Raw, E> {
                String::from_utf8(b.to_vec())
                    .map(Raw::Str)
                    .map_err(|_| E::custom("binary data is not UTF-8"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Raw::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Spanned<Raw>>()? {
                    entries.push((k, v));
                }
                Ok(Raw::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

fn source_text<'t>(text: &'t str, node: &Spanned<Raw>) -> Option<&'t str> {
    let span = node.referenced.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    text.get(start..start.checked_add(len)?)
}

fn finish(text: &str, node: Spanned<Raw>) -> Node {
    let src = source_text(text, &node);
    let written = |fallback: String| src.map_or(fallback, str::to_owned);
    match node.value {
        Raw::Null => Node::Null,
        Raw::Bool(b) => Node::Bool {
            value: b,
            text: written(b.to_string()),
        },
        Raw::Int(i) => Node::Number {
            value: i as f64,
            int: Some(i),
            text: written(i.to_string()),
        },
        Raw::Float(f) => Node::Number {
            value: f,
            int: None,
            text: written(f.to_string()),
        },
        Raw::Str(s) => Node::Str {
            quoted: src.is_some_and(|t| t.starts_with(['\'', '"'])),
            value: s,
        },
        Raw::Seq(items) => Node::Seq(items.into_iter().map(|n| finish(text, n)).collect()),
        Raw::Map(entries) => Node::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, finish(text, v)))
                .collect(),
        ),
    }
}

/// Parses a YAML stream into one node per non-empty document.
pub(crate) fn parse_yaml(text: &str) -> Result<Vec<Node>, String> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
    };
    let docs: Vec<Spanned<Raw>> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().map(|d| finish(text, d)).collect())
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
            int: n.as_i64(),
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
    fn non_finite_numbers_are_rejected() {
        // Go's JSON encoder cannot write them either, so an attachment holding
        // one could never be served.
        assert!(parse_yaml("a: [.nan]").is_err());
        let n = Node::Number {
            value: f64::INFINITY,
            int: None,
            text: "x".into(),
        };
        assert_eq!(n.to_json(), None);
    }
}
