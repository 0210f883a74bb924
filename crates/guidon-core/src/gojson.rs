//! JSON text exactly as Go's `encoding/json.Marshal` writes it.
//!
//! Flipt serialises a variant's declarative `attachment` with Go's `json.Marshal`,
//! and clients compare `variantAttachment` strings byte for byte (some cache on
//! them). Go's output differs from `serde_json`'s in three ways that matter:
//! object keys are sorted, `<`, `>`, `&`, U+2028 and U+2029 are escaped as
//! `\u003c`-style sequences (and `\b`, `\f` as Go ≥ 1.22 writes them), floats
//! `\u003c`-style sequences, and floats use `strconv.FormatFloat(f, 'f'|'e', -1, 64)`
//! (so `1.0` is written `1` and `1e21` is written `1e+21`).

use serde_json::Value;

/// Marshals `value` as Go's `json.Marshal` would.
pub fn marshal(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                write_float(out, n.as_f64().unwrap_or(0.0));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, &map[key.as_str()]);
            }
            out.push('}');
        }
    }
}

/// Go's float64 encoding: shortest representation, exponent form outside
/// [1e-6, 1e21), with a two-digit-minimum exponent trimmed back (`1e-7`, `1e+21`).
fn write_float(out: &mut String, f: f64) {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mant, exp)) if !exp.starts_with('-') => {
                out.push_str(mant);
                out.push_str("e+");
                out.push_str(exp);
            }
            _ => out.push_str(&s),
        }
    } else if f.fract() == 0.0 && abs < 1e21 {
        out.push_str(&format!("{f:.0}"));
    } else {
        out.push_str(&f.to_string());
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_compact() {
        let v = json!({"z": 1, "a": {"y": [1, 2], "b": null}, "m": true});
        assert_eq!(marshal(&v), r#"{"a":{"b":null,"y":[1,2]},"m":true,"z":1}"#);
    }

    #[test]
    fn html_characters_are_escaped() {
        let v = json!({"html": "<b>&</b>", "ctl": "a\u{1}b\u{2028}\u{8}\u{c}"});
        assert_eq!(
            marshal(&v),
            r#"{"ctl":"a\u0001b\u2028\b\f","html":"\u003cb\u003e\u0026\u003c/b\u003e"}"#
        );
    }

    #[test]
    fn floats_follow_go() {
        let cases = [
            (1.0, "1"),
            (1.5, "1.5"),
            (0.000001, "0.000001"),
            (0.0000001, "1e-7"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (-2.5e-9, "-2.5e-9"),
            (0.1, "0.1"),
        ];
        for (f, want) in cases {
            assert_eq!(marshal(&json!(f)), want, "{f}");
        }
    }
}
