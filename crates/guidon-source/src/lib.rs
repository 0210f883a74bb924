//! # guidon-source
//!
//! Sources turn one kind of storage into immutable [`guidon_core::Snapshot`]s and
//! publish them atomically into a [`SnapshotStore`], which the transports read on
//! every request.
//!
//! ## Layout
//!
//! - [`store`]: [`SnapshotStore`] (the served snapshot behind an `ArcSwap`, the
//!   source's [`SourceStatus`], and a `watch` channel bumped on every swap).
//! - [`local`]: [`LocalSource`], a directory selected by `.flipt.yml` rules,
//!   watched with debounced file-system events plus polling, reloaded only when
//!   its content hash changes.
//!
//! Invariant for every source: a snapshot that fails to load never replaces the
//! one being served; the failure is recorded in the status instead.
//!
//! - [`poll`]: the loop shared by remote sources ([`poll::Fetcher`],
//!   [`poll::run_poller`]): jittered polling, backoff, SIGHUP re-polls.
//! - [`s3`] (feature `s3`): S3 and S3-compatible buckets, conditional GETs.
//! - [`git`]: git repositories through the `git` command (branches, tags,
//!   commits, semver tag constraints; basic, token and SSH credentials).
//! - [`cache`]: last-known-good snapshots on disk (`storage.cache_dir`).
//!
//! Deliberately left out (for now): database sources.

pub mod cache;
pub mod git;
pub mod local;
pub mod poll;
#[cfg(feature = "s3")]
pub mod s3;
pub mod store;

pub use local::{LocalSource, SourceError};
pub use store::{Published, SnapshotStore, SourceStatus};
