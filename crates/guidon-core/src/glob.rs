//! Glob patterns with the syntax Flipt's `.flipt.yml` index uses (gobwas/glob with
//! `/` as the separator), matched against slash-separated paths relative to the
//! source root.
//!
//! - `*` any run of characters except `/`; `**` any run of characters, `/` included
//!   (so `**features.yml` matches `features.yml`, `a/b/features.yml` and
//!   `team.features.yml`);
//! - `?` one character except `/`;
//! - `[abc]`, `[a-z]`, `[!abc]` character classes;
//! - `{a,b}` alternatives (which may hold patterns themselves);
//! - `\x` a literal `x`.
//!
//! No crate implements exactly these rules (globset requires `**` to be a whole
//! path component), and they decide which flag files are served, so they live here.

use std::fmt;

/// A compiled glob pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyChar,
    Star,
    SuperStar,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Alt(Vec<Vec<Token>>),
}

/// A pattern that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob {pattern:?}: {reason}")]
pub struct GlobError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.source)
    }
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let err = |reason| GlobError {
            pattern: pattern.to_owned(),
            reason,
        };
        let tokens = parse_seq(&chars, &mut pos, false).map_err(err)?;
        if pos != chars.len() {
            return Err(err("unexpected '}' or ','"));
        }
        Ok(Self {
            source: pattern.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `path` (slash-separated, relative) matches the whole pattern.
    pub fn is_match(&self, path: &str) -> bool {
        let chars: Vec<char> = path.chars().collect();
        matches(&self.tokens, &chars)
    }
}

fn parse_seq(c: &[char], pos: &mut usize, in_alt: bool) -> Result<Vec<Token>, &'static str> {
    let mut out = Vec::new();
    while *pos < c.len() {
        match c[*pos] {
            '*' => {
                if c.get(*pos + 1) == Some(&'*') {
                    *pos += 2;
                    while c.get(*pos) == Some(&'*') {
                        *pos += 1;
                    }
                    out.push(Token::SuperStar);
                } else {
                    *pos += 1;
                    out.push(Token::Star);
                }
            }
            '?' => {
                *pos += 1;
                out.push(Token::AnyChar);
            }
            '\\' => {
                let ch = *c.get(*pos + 1).ok_or("trailing backslash")?;
                *pos += 2;
                out.push(Token::Literal(ch));
            }
            '[' => {
                *pos += 1;
                let negated = matches!(c.get(*pos), Some('!') | Some('^'));
                if negated {
                    *pos += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let lo = *c.get(*pos).ok_or("unclosed character class")?;
                    if lo == ']' && !ranges.is_empty() {
                        *pos += 1;
                        break;
                    }
                    *pos += 1;
                    if c.get(*pos) == Some(&'-') && c.get(*pos + 1).is_some_and(|&h| h != ']') {
                        let hi = c[*pos + 1];
                        if hi < lo {
                            return Err("inverted range in character class");
                        }
                        *pos += 2;
                        ranges.push((lo, hi));
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                out.push(Token::Class { negated, ranges });
            }
            '{' => {
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    alts.push(parse_seq(c, pos, true)?);
                    match c.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err("unclosed '{'"),
                    }
                }
                out.push(Token::Alt(alts));
            }
            ',' | '}' if in_alt => return Ok(out),
            ch => {
                *pos += 1;
                out.push(Token::Literal(ch));
            }
        }
    }
    Ok(out)
}

fn matches(tokens: &[Token], s: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return s.is_empty();
    };
    match first {
        Token::Literal(ch) => s.first() == Some(ch) && matches(rest, &s[1..]),
        Token::AnyChar => s.first().is_some_and(|&c| c != '/') && matches(rest, &s[1..]),
        Token::Class { negated, ranges } => {
            s.first().is_some_and(|&c| {
                let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                inside != *negated && c != '/'
            }) && matches(rest, &s[1..])
        }
        Token::Star => {
            for i in 0..=s.len() {
                if matches(rest, &s[i..]) {
                    return true;
                }
                if i < s.len() && s[i] == '/' {
                    return false;
                }
            }
            false
        }
        Token::SuperStar => (0..=s.len()).any(|i| matches(rest, &s[i..])),
        Token::Alt(alts) => alts.iter().any(|alt| {
            let mut joined = alt.clone();
            joined.extend_from_slice(rest);
            matches(&joined, s)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Glob::new(p).unwrap().is_match(s)
    }

    #[test]
    fn default_flipt_includes() {
        assert!(m("**features.yml", "features.yml"));
        assert!(m("**features.yml", "a/b/features.yml"));
        assert!(m("**.features.yml", "team/x.features.yml"));
        assert!(!m("**.features.yml", "features.yml"));
        assert!(!m("**features.yml", "features.yaml"));
    }

    #[test]
    fn star_stops_at_separator() {
        assert!(m("*.yml", "a.yml"));
        assert!(!m("*.yml", "dir/a.yml"));
        assert!(m("tmp/**", "tmp/a/b.yml"));
        assert!(m("*/*.yml", "a/b.yml"));
        assert!(!m("?.yml", "/.yml"));
    }

    #[test]
    fn classes_and_alternatives() {
        assert!(m("[ab].yml", "a.yml"));
        assert!(!m("[!ab].yml", "a.yml"));
        assert!(m("[a-c]x", "bx"));
        assert!(m("{prod,stg}/*.yml", "stg/f.yml"));
        assert!(!m("{prod,stg}/*.yml", "dev/f.yml"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        for p in ["[abc", "{a,b", "a\\", "[z-a]"] {
            assert!(Glob::new(p).is_err(), "{p}");
        }
    }
}
