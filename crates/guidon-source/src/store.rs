//! The published snapshot and the status of the source that feeds it.
//!
//! A [`SnapshotStore`] holds the snapshot currently served behind an `ArcSwap`
//! (wait-free reads on every request), the source's [`SourceStatus`], and a
//! `watch` channel whose value is bumped on every swap so streams and pollers wake
//! up. Only complete, valid snapshots are ever published: a failed load records
//! its error in the status and leaves the served snapshot alone.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use guidon_core::{Bucketing, Snapshot};
use tokio::sync::watch;

/// A snapshot as served: the compiled data plus where it came from.
#[derive(Debug)]
pub struct Published {
    /// The compiled flags.
    pub snapshot: Snapshot,
    /// Content revision (SHA-1 hex of the source files), empty before the first load.
    pub revision: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
}

/// What a source reports about itself.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    /// Storage type as Flipt names it (`local`, `object`, `git`, ...).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Where it reads from (a directory, a bucket URL, ...).
    pub location: String,
    /// Revision currently served.
    pub revision: String,
    /// When the served snapshot was loaded (RFC 3339), if ever.
    pub loaded_at: Option<String>,
    /// When the source was last read successfully, changed or not.
    pub last_success: Option<String>,
    /// The last error, if the most recent attempt failed.
    pub last_error: Option<String>,
    /// When that error happened.
    pub last_error_at: Option<String>,
    /// Namespaces served.
    pub namespaces: usize,
    /// Flags served.
    pub flags: usize,
    /// True while the latest attempt to read the source failed (the last good
    /// snapshot keeps being served).
    pub degraded: bool,
    /// Whether the served snapshot came from `storage.cache_dir` because the
    /// source was unreachable at start-up.
    pub from_cache: bool,
    /// Times the source was read (polls, events, SIGHUP).
    pub polls: u64,
    /// Reads that found nothing new (no download, no parse).
    pub not_modified: u64,
    /// Snapshots compiled from new content (successful or not).
    pub loads: u64,
    /// Objects downloaded in full (S3: GETs answered 200 rather than 304).
    pub downloads: u64,
    /// Failed reads or loads.
    pub errors: u64,
    /// Seconds the last compile took.
    pub last_load_seconds: f64,
    /// A revision the source offers that failed to load (the previous one is
    /// still served); cleared when a good revision arrives.
    pub rejected_revision: Option<String>,
    /// `loaded_at` as a time, for metrics.
    #[serde(skip)]
    pub loaded_at_time: Option<SystemTime>,
    /// `last_success` as a time, for metrics.
    #[serde(skip)]
    pub last_success_time: Option<SystemTime>,
    /// `last_error_at` as a time, for metrics.
    #[serde(skip)]
    pub last_error_time: Option<SystemTime>,
}

/// The served snapshot, its source status, and change notification.
#[derive(Debug)]
pub struct SnapshotStore {
    current: ArcSwap<Published>,
    status: Mutex<SourceStatus>,
    version: watch::Sender<u64>,
}

/// RFC 3339 text for a system time (UTC, protobuf style).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    guidon_core::goparse::format_rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

impl SnapshotStore {
    /// A store serving an empty snapshot until the source's first load.
    pub fn new(kind: &'static str, location: impl Into<String>, bucketing: Bucketing) -> Arc<Self> {
        let empty = Published {
            snapshot: Snapshot::empty(bucketing),
            revision: String::new(),
            loaded_at: SystemTime::now(),
        };
        Arc::new(Self {
            current: ArcSwap::from_pointee(empty),
            status: Mutex::new(SourceStatus {
                kind,
                location: location.into(),
                revision: String::new(),
                loaded_at: None,
                last_success: None,
                last_error: None,
                last_error_at: None,
                namespaces: 0,
                flags: 0,
                degraded: false,
                from_cache: false,
                polls: 0,
                not_modified: 0,
                loads: 0,
                downloads: 0,
                errors: 0,
                last_load_seconds: 0.0,
                rejected_revision: None,
                loaded_at_time: None,
                last_success_time: None,
                last_error_time: None,
            }),
            version: watch::channel(0).0,
        })
    }

    /// The snapshot currently served.
    pub fn load(&self) -> Arc<Published> {
        self.current.load_full()
    }

    /// A receiver that changes whenever a new snapshot is published.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// The source's status.
    pub fn status(&self) -> SourceStatus {
        self.lock_status().clone()
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, SourceStatus> {
        // A poisoned lock only means a panic elsewhere mid-update of plain data.
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes a new snapshot and returns the one it replaced.
    pub fn publish(&self, snapshot: Snapshot, revision: String) -> Arc<Published> {
        let now = SystemTime::now();
        {
            let mut st = self.lock_status();
            st.from_cache = false;
            st.rejected_revision = None;
            st.revision = revision.clone();
            st.loaded_at = Some(rfc3339(now));
            st.last_success = Some(rfc3339(now));
            st.loaded_at_time = Some(now);
            st.last_success_time = Some(now);
            st.last_error = None;
            st.last_error_at = None;
            st.degraded = false;
            st.namespaces = snapshot.namespaces().len();
            st.flags = snapshot.flag_count();
        }
        let old = self.current.swap(Arc::new(Published {
            snapshot,
            revision,
            loaded_at: now,
        }));
        self.version.send_modify(|v| *v += 1);
        old
    }

    /// Publishes a snapshot restored from the last-known-good cache: served,
    /// but marked degraded with `error` until the source answers again.
    ///
    /// A revision the source offered and that failed to load stays recorded,
    /// and the source is not counted as successfully read.
    pub fn publish_cached(&self, snapshot: Snapshot, revision: String, error: &str) {
        let (rejected, last_success, last_success_time) = {
            let st = self.lock_status();
            (
                st.rejected_revision.clone(),
                st.last_success.clone(),
                st.last_success_time,
            )
        };
        self.publish(snapshot, revision);
        self.record_error(error);
        let mut st = self.lock_status();
        st.from_cache = true;
        st.rejected_revision = rejected;
        st.last_success = last_success;
        st.last_success_time = last_success_time;
    }

    /// Counts objects downloaded by the source (S3 GETs answered 200).
    pub fn record_downloads(&self, total: u64) {
        self.lock_status().downloads = total;
    }

    /// Counts one read of the source.
    pub fn record_poll(&self) {
        self.lock_status().polls += 1;
    }

    /// Counts one compile and how long it took.
    pub fn record_load(&self, seconds: f64) {
        let mut st = self.lock_status();
        st.loads += 1;
        st.last_load_seconds = seconds;
    }

    /// Records a successful read that found nothing new. If what the source
    /// offers is a rejected revision, its error stays visible.
    pub fn record_unchanged(&self) {
        let mut st = self.lock_status();
        let now = SystemTime::now();
        st.not_modified += 1;
        st.last_success = Some(rfc3339(now));
        st.last_success_time = Some(now);
        if st.rejected_revision.is_none() {
            st.from_cache = false;
            st.last_error = None;
            st.last_error_at = None;
            st.degraded = false;
        }
    }

    /// Records that the source now offers the served revision again (a bad
    /// change was reverted).
    pub fn record_back_to_served(&self) {
        self.lock_status().rejected_revision = None;
        self.record_unchanged();
    }

    /// Records that `revision` failed to load; the served snapshot stays.
    pub fn record_rejected(&self, revision: &str, error: &str) {
        self.record_error(error);
        self.lock_status().rejected_revision = Some(revision.to_owned());
    }

    /// The revision that last failed to load, if the source still offers it.
    pub fn rejected_revision(&self) -> Option<String> {
        self.lock_status().rejected_revision.clone()
    }

    /// Records a failed read or load; the served snapshot is left alone.
    pub fn record_error(&self, error: &str) {
        let mut st = self.lock_status();
        let now = SystemTime::now();
        st.errors += 1;
        st.last_error = Some(error.to_owned());
        st.last_error_at = Some(rfc3339(now));
        st.last_error_time = Some(now);
        st.degraded = true;
    }
}
