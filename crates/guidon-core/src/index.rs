//! The `.flipt.yml` index: which files of a source hold flag documents.
//!
//! ```yaml
//! version: "1.0"
//! include: ["**/*.features.yml"]
//! exclude: ["tmp/**"]
//! ```
//!
//! Without an index file (or without `include`), Flipt's defaults apply:
//! `**features.yml`, `**features.yaml`, `**.features.yml`, `**.features.yaml`.
//! Paths are matched relative to the source root, with `/` separators. Selected
//! files must be `.yml`, `.yaml`, `.json` or extension-less (JSON); anything
//! else fails the load with `unexpected extension`, as in Flipt.

use crate::glob::{Glob, GlobError};
use crate::node::Node;

/// File name of the index at the root of a source.
pub const INDEX_FILE: &str = ".flipt.yml";

/// Include globs used when there is no index (or it has no `include`).
pub const DEFAULT_INCLUDES: [&str; 4] = [
    "**features.yml",
    "**features.yaml",
    "**.features.yml",
    "**.features.yaml",
];

/// Compiled include and exclude globs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    include: Vec<Glob>,
    exclude: Vec<Glob>,
}

/// Why an index file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Not valid YAML, or not the index shape.
    #[error("invalid {INDEX_FILE}: {0}")]
    Parse(String),
    /// A version other than 1.0.
    #[error("invalid {INDEX_FILE}: unsupported version {0:?}")]
    Version(String),
    /// A glob that does not compile.
    #[error("invalid {INDEX_FILE}: {0}")]
    Glob(#[from] GlobError),
}

impl Default for Index {
    fn default() -> Self {
        Self::new(&DEFAULT_INCLUDES, &[] as &[&str]).unwrap_or_else(|_| Self {
            include: Vec::new(),
            exclude: Vec::new(),
        })
    }
}

impl Index {
    /// An index from include and exclude patterns (defaults when `include` is empty).
    pub fn new<S: AsRef<str>>(include: &[S], exclude: &[S]) -> Result<Self, GlobError> {
        let compile = |p: &[S]| {
            p.iter()
                .map(|s| Glob::new(s.as_ref()))
                .collect::<Result<Vec<_>, _>>()
        };
        let include = if include.is_empty() {
            DEFAULT_INCLUDES
                .iter()
                .map(|s| Glob::new(s))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            compile(include)?
        };
        Ok(Self {
            include,
            exclude: compile(exclude)?,
        })
    }

    /// Parses the contents of a `.flipt.yml`.
    pub fn parse(text: &str) -> Result<Self, IndexError> {
        let docs = crate::node::parse_yaml(text).map_err(IndexError::Parse)?;
        let Some(doc) = docs.first() else {
            return Ok(Self::default());
        };
        let Node::Map(entries) = doc else {
            return Err(IndexError::Parse(format!(
                "expected a mapping, found {}",
                doc.kind()
            )));
        };
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        for (key, value) in entries {
            match key.as_str() {
                "version" => match value.scalar_text() {
                    Some("1.0") | None => {}
                    Some(v) => return Err(IndexError::Version(v.to_owned())),
                },
                "include" | "exclude" => {
                    let list = if key == "include" {
                        &mut include
                    } else {
                        &mut exclude
                    };
                    match value {
                        Node::Null => {}
                        Node::Seq(items) => {
                            for item in items {
                                match item.scalar_text() {
                                    Some(p) => list.push(p.to_owned()),
                                    None => {
                                        return Err(IndexError::Parse(format!(
                                            "{key} must be a list of glob strings"
                                        )));
                                    }
                                }
                            }
                        }
                        _ => {
                            return Err(IndexError::Parse(format!(
                                "{key} must be a list of glob strings"
                            )));
                        }
                    }
                }
                other => return Err(IndexError::Parse(format!("unknown field {other:?}"))),
            }
        }
        Ok(Self::new(&include, &exclude)?)
    }

    /// Whether the file at `path` (relative, `/`-separated) is a flag document.
    /// As in Flipt, a selected file with an extension other than `.yml`,
    /// `.yaml` or `.json` is then a load error, not silently skipped.
    pub fn selects(&self, path: &str) -> bool {
        path != INDEX_FILE
            && self.include.iter().any(|g| g.is_match(path))
            && !self.exclude.iter().any(|g| g.is_match(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_select_features_files() {
        let idx = Index::default();
        assert!(idx.selects("features.yml"));
        assert!(idx.selects("prod/features.yaml"));
        assert!(idx.selects("team.features.yml"));
        assert!(!idx.selects("other.yml"));
        assert!(!idx.selects(".flipt.yml"));
    }

    #[test]
    fn index_file_includes_and_excludes() {
        let idx =
            Index::parse("version: \"1.0\"\ninclude: [\"**/*.yml\"]\nexclude: [\"tmp/**\"]\n")
                .unwrap();
        assert!(idx.selects("a/flags.yml"));
        assert!(!idx.selects("tmp/flags.yml"));
        assert!(!idx.selects("flags.yml"), "**/ needs a directory");
    }

    #[test]
    fn exclude_only_keeps_default_includes() {
        let idx = Index::parse("exclude: [\"old/**\"]").unwrap();
        assert!(idx.selects("features.yml"));
        assert!(!idx.selects("old/features.yml"));
    }

    #[test]
    fn bad_index_is_an_error() {
        assert!(Index::parse("version: \"2.0\"").is_err());
        assert!(Index::parse("include: [\"[abc\"]").is_err());
        assert!(Index::parse("inclde: [a]").is_err());
    }
}
