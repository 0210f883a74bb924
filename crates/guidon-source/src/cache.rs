//! Last-known-good snapshots on disk (`storage.cache_dir`).
//!
//! After every good load, the source files of the served revision are written
//! to `<cache_dir>/<key>.json` atomically (a temporary file, fsync, rename). When
//! the source cannot be reached at start-up, Guidon serves that revision,
//! reports itself degraded, and keeps retrying the source. The key is derived
//! from the source type and location, so two sources never share a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::local::Files;

/// The cache for one source.
#[derive(Debug, Clone)]
pub struct Cache {
    path: PathBuf,
    kind: String,
    location: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    kind: String,
    location: String,
    revision: String,
    files: Vec<StoredFile>,
}

#[derive(Serialize, Deserialize)]
struct StoredFile {
    path: String,
    contents: String,
}

/// Why the cache could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Reading or writing the cache file failed.
    #[error("cache file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The cache file is not what Guidon writes.
    #[error("cache file {path} is unreadable: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Cache {
    /// The cache of the source `kind` at `location`, under `dir`.
    pub fn new(dir: &Path, kind: &str, location: &str) -> Self {
        let mut h = sha1_smol::Sha1::new();
        h.update(kind.as_bytes());
        h.update(&[0]);
        h.update(location.as_bytes());
        let key = h.digest().to_string();
        Self {
            path: dir.join(format!("{kind}-{}.json", &key[..16])),
            kind: kind.to_owned(),
            location: location.to_owned(),
        }
    }

    /// Where the cache file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
        move |source| CacheError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Writes `files` atomically (blocking I/O).
    pub fn save(&self, files: &Files) -> Result<(), CacheError> {
        let stored = Stored {
            version: 1,
            kind: self.kind.clone(),
            location: self.location.clone(),
            revision: files.revision.clone(),
            files: files
                .files
                .iter()
                .map(|(path, contents)| StoredFile {
                    path: path.clone(),
                    // Flag files are UTF-8 (YAML and JSON must be); anything
                    // else would not have compiled.
                    contents: String::from_utf8_lossy(contents).into_owned(),
                })
                .collect(),
        };
        let json = serde_json::to_vec(&stored).map_err(|e| CacheError::Corrupt {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(self.io())?;
        }
        let tmp = self
            .path
            .with_extension(format!("json.tmp{}", std::process::id()));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &self.path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(self.io())
    }

    /// Reads the cached files, if any (blocking I/O).
    pub fn load(&self) -> Result<Option<Files>, CacheError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io()(e)),
        };
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| CacheError::Corrupt {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(Some(Files {
            files: stored
                .files
                .into_iter()
                .map(|f| (f.path, f.contents.into_bytes()))
                .collect(),
            revision: stored.revision,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        let a = Cache::new(dir.path(), "object", "s3://bucket/prd");
        let b = Cache::new(dir.path(), "object", "s3://bucket/stg");
        assert_ne!(a.path(), b.path());
        assert!(a.load().unwrap().is_none());
        let files = Files {
            files: vec![("features.yml".into(), b"flags: []\n".to_vec())],
            revision: "abc".into(),
        };
        a.save(&files).unwrap();
        let back = a.load().unwrap().unwrap();
        assert_eq!(back.revision, "abc");
        assert_eq!(back.files, files.files);
        std::fs::write(a.path(), "{").unwrap();
        assert!(a.load().is_err());
    }
}
