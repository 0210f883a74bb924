//! S3 buckets (`storage.type: object`, `storage.object.type: s3`).
//!
//! Each poll lists the prefix (to see added and removed files), reads the
//! `.flipt.yml` index if there is one, and fetches every selected file with
//! `If-None-Match: <etag of the copy we hold>`. An unchanged bucket therefore
//! costs one LIST and one `304 Not Modified` per file: nothing is downloaded and
//! nothing is parsed.
//!
//! Credentials come from the standard AWS chain as `object_store` implements it:
//! environment variables, web identity (EKS), the ECS task role
//! (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, refreshed before expiry) and
//! instance metadata. A custom `endpoint` switches to path-style requests, for
//! S3-compatible stores.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use guidon_core::Index;
use guidon_core::index::INDEX_FILE;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore};

use crate::SourceError;
use crate::local::{Files, MAX_FILE_BYTES};
use crate::poll::{Fetched, Fetcher};

/// Where the flags live.
#[derive(Debug, Clone, Default)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix (a "directory"); empty for the bucket root.
    pub prefix: String,
    /// Region (else from the environment, else `us-east-1`).
    pub region: Option<String>,
    /// Custom endpoint for S3-compatible stores (path-style addressing).
    pub endpoint: Option<String>,
}

impl S3Config {
    /// `s3://bucket/prefix`, for status and logs.
    pub fn location(&self) -> String {
        let prefix = self.prefix.trim_matches('/');
        if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}", self.bucket)
        }
    }
}

/// A cached object: its ETag and contents.
#[derive(Debug, Clone)]
struct Held {
    etag: Option<String>,
    contents: Vec<u8>,
}

/// Polls one bucket prefix.
#[derive(Debug)]
pub struct S3Fetcher {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    held: BTreeMap<String, Held>,
    index: Option<Held>,
    downloads: u64,
}

impl S3Fetcher {
    /// A fetcher for `config`, with credentials from the environment.
    pub fn new(config: &S3Config) -> Result<Self, SourceError> {
        // Fail fast: the poller has its own backoff, and a poll that retries for
        // minutes would hide an outage from /health.
        let retry = object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
        };
        let client = object_store::ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(30));
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_retry(retry)
            .with_client_options(client);
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        Ok(Self::with_store(Arc::new(builder.build()?), &config.prefix))
    }

    /// A fetcher over any object store (tests use this with an in-memory one).
    pub fn with_store(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        Self {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
            held: BTreeMap::new(),
            index: None,
            downloads: 0,
        }
    }

    fn key(&self, rel: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(rel)
        } else {
            Path::from(format!("{}/{rel}", self.prefix))
        }
    }

    /// Fetches `rel` unless the copy we hold is current. Returns the object and
    /// whether it was downloaded.
    async fn get(&mut self, rel: &str, held: Option<&Held>) -> Result<(Held, bool), SourceError> {
        let opts = GetOptions {
            if_none_match: held.and_then(|h| h.etag.clone()),
            ..GetOptions::default()
        };
        match self.store.get_opts(&self.key(rel), opts).await {
            Ok(res) => {
                if res.meta.size > MAX_FILE_BYTES {
                    return Err(SourceError::TooLarge(rel.into()));
                }
                let etag = res.meta.e_tag.clone();
                let contents = res.bytes().await?.to_vec();
                self.downloads += 1;
                Ok((Held { etag, contents }, true))
            }
            Err(object_store::Error::NotModified { .. }) => match held {
                Some(h) => Ok((h.clone(), false)),
                None => Err(SourceError::Task(format!(
                    "{rel}: not modified, but never fetched"
                ))),
            },
            Err(e) => Err(e.into()),
        }
    }
}

impl Fetcher for S3Fetcher {
    fn downloads(&self) -> u64 {
        self.downloads
    }

    async fn fetch(&mut self) -> Result<Fetched, SourceError> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let listed: Vec<_> = self.store.list(prefix.as_ref()).try_collect().await?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut rels: Vec<String> = listed
            .iter()
            .filter_map(|m| m.location.as_ref().strip_prefix(&strip).map(str::to_owned))
            .collect();
        rels.sort();

        let mut changed = false;
        let index = if rels.iter().any(|r| r == INDEX_FILE) {
            let current = self.index.clone();
            let (held, downloaded) = self.get(INDEX_FILE, current.as_ref()).await?;
            changed |= downloaded;
            let text = String::from_utf8_lossy(&held.contents).into_owned();
            self.index = Some(held);
            Index::parse(&text)?
        } else {
            changed |= self.index.take().is_some();
            Index::default()
        };

        let selected: Vec<String> = rels.into_iter().filter(|r| index.selects(r)).collect();
        changed |= !selected.iter().eq(self.held.keys());
        let mut next = BTreeMap::new();
        for rel in &selected {
            let current = self.held.get(rel).cloned();
            let (held, downloaded) = self.get(rel, current.as_ref()).await?;
            changed |= downloaded;
            next.insert(rel.clone(), held);
        }
        self.held = next;
        if !changed {
            return Ok(Fetched::Unchanged);
        }
        let files: Vec<(String, Vec<u8>)> = self
            .held
            .iter()
            .map(|(rel, h)| (rel.clone(), h.contents.clone()))
            .collect();
        Ok(Fetched::Files(Files::new(files)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::{ObjectStoreExt, PutPayload};

    async fn put(store: &InMemory, key: &str, body: &str) {
        store
            .put(&Path::from(key), PutPayload::from(body.as_bytes().to_vec()))
            .await
            .unwrap();
    }

    fn paths(f: &Fetched) -> Vec<String> {
        match f {
            Fetched::Unchanged => vec!["<unchanged>".into()],
            Fetched::Files(files) => files.files.iter().map(|(p, _)| p.clone()).collect(),
        }
    }

    #[tokio::test]
    async fn conditional_fetches_follow_the_bucket() {
        let mem = Arc::new(InMemory::new());
        put(&mem, "prd/features.yml", "flags: []").await;
        put(&mem, "prd/notes.txt", "ignored").await;
        put(&mem, "stg/features.yml", "other prefix").await;
        let mut f = S3Fetcher::with_store(mem.clone(), "/prd/");

        assert_eq!(paths(&f.fetch().await.unwrap()), ["features.yml"]);
        assert_eq!(paths(&f.fetch().await.unwrap()), ["<unchanged>"]);

        put(&mem, "prd/team.features.yml", "flags: []").await;
        assert_eq!(
            paths(&f.fetch().await.unwrap()),
            ["features.yml", "team.features.yml"]
        );
        assert_eq!(paths(&f.fetch().await.unwrap()), ["<unchanged>"]);

        put(&mem, "prd/features.yml", "flags: [] # edited").await;
        let Fetched::Files(files) = f.fetch().await.unwrap() else {
            panic!("expected files")
        };
        assert_eq!(files.files[0].1, b"flags: [] # edited");

        mem.delete(&Path::from("prd/team.features.yml"))
            .await
            .unwrap();
        assert_eq!(paths(&f.fetch().await.unwrap()), ["features.yml"]);

        // An index changes what is selected.
        put(&mem, "prd/.flipt.yml", "include: [\"*.txt\"]").await;
        let err = match f.fetch().await {
            Ok(got) => paths(&got),
            Err(e) => vec![e.to_string()],
        };
        assert_eq!(err, ["notes.txt"]);
    }
}
