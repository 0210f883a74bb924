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
//! Deliberately left out (for now): S3, git and database sources.

pub mod local;
pub mod store;

pub use local::{LocalSource, SourceError};
pub use store::{Published, SnapshotStore, SourceStatus};
