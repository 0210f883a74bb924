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
//! Paths are matched relative to the source root, with `/` separators. Only
//! `.yml`, `.yaml`, `.json` and extension-less files are ever parsed.

use serde::Deserialize;

use crate::glob::{Glob, GlobError};

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    version: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
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
        let raw: Option<RawIndex> =
            serde_saphyr::from_str(text).map_err(|e| IndexError::Parse(e.to_string()))?;
        let Some(raw) = raw else {
            return Ok(Self::default());
        };
        if let Some(v) = raw.version.as_deref().filter(|v| *v != "1.0") {
            return Err(IndexError::Version(v.to_owned()));
        }
        Ok(Self::new(&raw.include, &raw.exclude)?)
    }

    /// Whether the file at `path` (relative, `/`-separated) is a flag document.
    pub fn selects(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext_ok = match name.rsplit_once('.') {
            None => true,
            Some((_, ext)) => matches!(ext, "yml" | "yaml" | "json"),
        };
        ext_ok
            && path != INDEX_FILE
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
        assert!(!idx.selects("features.txt"));
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
