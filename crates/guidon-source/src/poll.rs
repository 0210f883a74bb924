//! Polling remote sources (S3, git): the loop every such source shares.
//!
//! A [`Fetcher`] knows how to ask its storage "anything new since last time?"
//! cheaply (conditional requests, commit ids). [`run_poller`] calls it every
//! `poll_interval` (with ±10% jitter so a fleet does not poll in lockstep),
//! immediately when triggered (SIGHUP), and with exponential backoff while it
//! fails. New content is compiled off the async threads and published through
//! [`apply`], which also writes the last-known-good cache; a failure only
//! marks the source degraded, the served snapshot stays.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use guidon_core::CompileOptions;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::SourceError;
use crate::cache::Cache;
use crate::local::Files;
use crate::store::SnapshotStore;

/// What one fetch found.
#[derive(Debug)]
pub enum Fetched {
    /// Nothing changed since the previous fetch (nothing downloaded or parsed).
    Unchanged,
    /// New content.
    Files(Files),
}

/// A remote storage that can be asked for its current files.
pub trait Fetcher: Send + 'static {
    /// Fetches the current files, or says nothing changed since the last call.
    fn fetch(&mut self) -> impl Future<Output = Result<Fetched, SourceError>> + Send;

    /// Objects downloaded in full so far (for sources with conditional reads).
    fn downloads(&self) -> u64 {
        0
    }
}

/// Timings of a poller.
#[derive(Debug, Clone, Copy)]
pub struct PollOptions {
    /// Time between polls.
    pub interval: Duration,
    /// First retry delay after an error (doubles up to `interval`).
    pub min_backoff: Duration,
}

impl PollOptions {
    /// Polls every `interval`, retrying failures from 1 s up.
    /// At least every 100 ms, whatever is configured.
    pub fn every(interval: Duration) -> Self {
        let interval = interval.max(Duration::from_millis(100));
        Self {
            interval,
            min_backoff: Duration::from_secs(1).min(interval),
        }
    }
}

/// Compiles `files` (blocking: call from a blocking thread), publishes them and
/// saves them to `cache`. Returns whether a new snapshot is served.
pub fn apply(
    store: &SnapshotStore,
    files: Files,
    opts: CompileOptions,
    cache: Option<&Cache>,
) -> Result<bool, SourceError> {
    if files.revision == store.load().revision {
        store.record_back_to_served();
        return Ok(false);
    }
    let served_flags = store.load().snapshot.flag_count();
    if files.files.is_empty() && served_flags > 0 {
        // A wrong prefix, a bucket being recreated, a sync caught half-way:
        // turning every flag off is never the safe reading of "no files".
        let e = SourceError::Empty(served_flags);
        store.record_rejected(&files.revision, &e.to_string());
        return Err(e);
    }
    if store.rejected_revision().as_deref() == Some(files.revision.as_str()) {
        // Known bad: no need to parse it again; its error stays visible.
        store.record_unchanged();
        return Ok(false);
    }
    let started = Instant::now();
    let compiled = files.compile(opts);
    store.record_load(started.elapsed().as_secs_f64());
    let snapshot = match compiled {
        Ok(s) => s,
        Err(e) => {
            let e = SourceError::from(e);
            store.record_rejected(&files.revision, &e.to_string());
            return Err(e);
        }
    };
    let old = store.publish(snapshot, files.revision.clone());
    let new = store.load();
    crate::local::log_swap(&old.snapshot, &old.revision, &new.snapshot, &new.revision);
    if let Some(cache) = cache
        && let Err(e) = cache.save(&files)
    {
        warn!(error = %e, "could not save the last-known-good snapshot");
    }
    Ok(true)
}

/// Fetches once and applies the result. Returns whether a new snapshot is served.
pub async fn poll_once<F: Fetcher>(
    fetcher: &mut F,
    store: &Arc<SnapshotStore>,
    opts: CompileOptions,
    cache: Option<&Cache>,
) -> Result<bool, SourceError> {
    store.record_poll();
    let fetched = fetcher.fetch().await;
    store.record_downloads(fetcher.downloads());
    match fetched {
        Ok(Fetched::Unchanged) => {
            store.record_unchanged();
            Ok(false)
        }
        Ok(Fetched::Files(files)) => {
            let revision = files.revision.clone();
            let st = Arc::clone(store);
            let cache = cache.cloned();
            match tokio::task::spawn_blocking(move || apply(&st, files, opts, cache.as_ref())).await
            {
                Ok(result) => result,
                Err(e) => {
                    // The fetcher has moved on to this revision: remember it as bad
                    // so the next (unchanged) poll does not clear the error.
                    let e = SourceError::Task(e.to_string());
                    store.record_rejected(&revision, &e.to_string());
                    Err(e)
                }
            }
        }
        Err(e) => {
            store.record_error(&e.to_string());
            Err(e)
        }
    }
}

/// Restores the last-known-good snapshot from `cache` into `store`, marked
/// degraded with `error`. Returns whether there was one.
pub fn restore_from_cache(
    store: &SnapshotStore,
    cache: &Cache,
    opts: CompileOptions,
    error: &str,
) -> Result<bool, SourceError> {
    let Some(files) = cache.load()? else {
        return Ok(false);
    };
    let snapshot = files.compile(opts)?;
    store.publish_cached(snapshot, files.revision.clone(), error);
    warn!(
        revision = %files.revision,
        cache = %cache.path().display(),
        error,
        "the source could not be loaded at start-up; serving the last-known-good snapshot"
    );
    Ok(true)
}

/// Polls `fetcher` until `shutdown` completes; `trigger` forces an immediate poll
/// whenever its value changes (SIGHUP).
pub async fn run_poller<F: Fetcher>(
    mut fetcher: F,
    store: Arc<SnapshotStore>,
    poll: PollOptions,
    opts: CompileOptions,
    cache: Option<Cache>,
    trigger: watch::Receiver<u64>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut trigger = Some(trigger);
    let mut failures: u32 = 0;
    loop {
        let base = if failures == 0 {
            poll.interval
        } else {
            let exp = poll
                .min_backoff
                .saturating_mul(1 << failures.min(16).saturating_sub(1));
            exp.min(poll.interval)
        };
        // ±10% jitter, so a fleet does not poll (or retry) in lockstep.
        let delay = base.mul_f64(0.9 + fastrand::f64() * 0.2);
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(delay) => {}
            changed = async {
                match trigger.as_mut() {
                    Some(t) => t.changed().await,
                    None => std::future::pending().await,
                }
            } => {
                if changed.is_err() {
                    // The trigger is gone: keep polling on the timer only.
                    trigger = None;
                    continue;
                }
                info!("re-poll requested");
            }
        }
        let polled = tokio::select! {
            // A slow poll (a git fetch, an S3 timeout) must not hold up shutdown;
            // dropping it kills any child process it started.
            () = &mut shutdown => break,
            r = poll_once(&mut fetcher, &store, opts, cache.as_ref()) => r,
        };
        match polled {
            Ok(changed) => {
                if failures > 0 {
                    info!("source reachable again");
                }
                failures = 0;
                debug!(changed, "source polled");
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                warn!(error = %e, failures, "source poll failed; still serving the previous snapshot");
            }
        }
    }
}
