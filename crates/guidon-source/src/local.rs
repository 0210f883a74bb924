//! The local-directory source (`storage.type: local`).
//!
//! [`LocalSource::read`] selects files with the `.flipt.yml` index rules, reads
//! them in path order and computes a revision (SHA-1 over paths and contents).
//! [`LocalSource::run`] keeps a [`SnapshotStore`] up to date:
//!
//! - file-system events (inotify & co. through `notify`) on the whole directory,
//!   debounced so an editor's save burst causes one reload;
//! - a poll every `poll_interval` as well, for file systems that deliver no events
//!   (NFS/EFS, some bind mounts) and as a safety net;
//! - a reload parses only when the revision changed, and a snapshot that fails
//!   to load never replaces the served one: the error goes into the status.
//!
//! Directory walking skips hidden directories (`.git`, Kubernetes ConfigMap
//! `..data` internals) so the same file is never read twice.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use guidon_core::index::{INDEX_FILE, Index, IndexError};
use guidon_core::{CompileOptions, LoadError, Snapshot, SourceFile};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::store::SnapshotStore;

/// Largest flag file read (a guard against a stray huge file in the directory).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Why a directory could not be turned into a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Reading a file or directory failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than [`MAX_FILE_BYTES`].
    #[error("{0}: file is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge(PathBuf),
    /// The `.flipt.yml` index is invalid.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The documents are invalid.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The last-known-good cache could not be read.
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    /// Object storage failed.
    #[cfg(feature = "s3")]
    #[error("object storage: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// A git command failed.
    #[error("git: {0}")]
    Git(String),
    /// A background task failed.
    #[error("reload task failed: {0}")]
    Task(String),
    /// The source has no flag files while flags are being served.
    #[error("the source has no flag files; refusing to replace {0} served flags with none")]
    Empty(usize),
}

/// The files of one revision of a directory.
#[derive(Debug, Clone)]
pub struct Files {
    /// `(relative path, contents)` in path order.
    pub files: Vec<(String, Vec<u8>)>,
    /// SHA-1 hex over every path and content.
    pub revision: String,
}

impl Files {
    /// Files in the given order, with their revision (SHA-1 hex over every path
    /// and content).
    pub fn new(files: Vec<(String, Vec<u8>)>) -> Self {
        let mut hasher = sha1_smol::Sha1::new();
        for (rel, contents) in &files {
            hasher.update(rel.as_bytes());
            hasher.update(&[0]);
            hasher.update(&(contents.len() as u64).to_le_bytes());
            hasher.update(contents);
        }
        Self {
            files,
            revision: hasher.digest().to_string(),
        }
    }

    /// Compiles the files into a snapshot.
    pub fn compile(&self, opts: CompileOptions) -> Result<Snapshot, LoadError> {
        guidon_core::load(&SourceFile::from_pairs(&self.files), opts)
    }
}

/// Settings of the local source.
#[derive(Debug, Clone)]
pub struct LocalSource {
    /// The directory.
    pub root: PathBuf,
    /// Compile options (bucketing).
    pub options: CompileOptions,
    /// Whether to watch for file-system events (polling always runs too).
    pub watch: bool,
    /// How often to re-read the directory regardless of events.
    pub poll_interval: Duration,
    /// Quiet period after the last event before reloading.
    pub debounce: Duration,
    /// Longest a stream of events can postpone a reload.
    pub max_debounce: Duration,
    /// Pause between the two reads that must agree before a change is used.
    pub settle: Duration,
}

impl LocalSource {
    /// A source for `root` with default timings (watch on, poll every 10 s,
    /// 200 ms debounce capped at 1 s, 50 ms settle).
    pub fn new(root: impl Into<PathBuf>, options: CompileOptions) -> Self {
        Self {
            root: root.into(),
            options,
            watch: true,
            poll_interval: Duration::from_secs(10),
            debounce: Duration::from_millis(200),
            max_debounce: Duration::from_secs(1),
            settle: Duration::from_millis(50),
        }
    }

    /// Reads the selected files (blocking I/O).
    pub fn read(&self) -> Result<Files, SourceError> {
        read_dir_files(&self.root)
    }

    /// Reads and compiles once (blocking), publishing into `store` when the
    /// revision changed. Returns whether a new snapshot was published.
    ///
    /// A changed directory is read again after `settle` and only used once two
    /// reads agree, so a file caught half-written (an editor truncating, then
    /// writing) is never compiled, let alone served.
    pub fn reload(&self, store: &SnapshotStore) -> Result<bool, SourceError> {
        store.record_poll();
        let stable = self.read_stable(&store.load().revision);
        match stable {
            Ok(Some(files)) => crate::poll::apply(store, files, self.options, None),
            Ok(None) => {
                store.record_unchanged();
                Ok(false)
            }
            Err(e) => {
                store.record_error(&e.to_string());
                Err(e)
            }
        }
    }

    /// Reads until two reads agree; `None` when the content is `current` (or
    /// still changing after a few tries).
    fn read_stable(&self, current: &str) -> Result<Option<Files>, SourceError> {
        let mut files = self.read()?;
        for _ in 0..5 {
            if files.revision == current {
                return Ok(None);
            }
            std::thread::sleep(self.settle);
            let again = self.read()?;
            if again.revision == files.revision {
                return Ok(Some(files));
            }
            files = again;
        }
        debug!("flag files still changing; will retry on the next event or poll");
        Ok(None)
    }

    /// Keeps `store` up to date until `shutdown` completes; a change of
    /// `trigger` (SIGHUP) forces an immediate re-read.
    pub async fn run(
        self,
        store: Arc<SnapshotStore>,
        trigger: tokio::sync::watch::Receiver<u64>,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut trigger = Some(trigger);
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let _watcher = if self.watch {
            match start_watcher(&self.root, tx) {
                Ok(w) => Some(w),
                Err(e) => {
                    warn!(path = %self.root.display(), error = %e, "file watching unavailable; polling only");
                    None
                }
            }
        } else {
            None
        };
        let this = Arc::new(self);
        let mut poll = tokio::time::interval(this.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        poll.tick().await;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = poll.tick() => {}
                changed = async {
                    match trigger.as_mut() {
                        Some(t) => t.changed().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if changed.is_err() {
                        trigger = None;
                        continue;
                    }
                }
                Some(()) = rx.recv() => {
                    // Debounce: wait until no event arrived for `debounce`, but
                    // never longer than `max_debounce` in all.
                    let deadline = tokio::time::Instant::now() + this.max_debounce;
                    loop {
                        tokio::select! {
                            () = &mut shutdown => return,
                            () = tokio::time::sleep(this.debounce) => break,
                            () = tokio::time::sleep_until(deadline) => break,
                            Some(()) = rx.recv() => continue,
                        }
                    }
                }
            }
            let src = Arc::clone(&this);
            let st = Arc::clone(&store);
            match tokio::task::spawn_blocking(move || src.reload(&st)).await {
                Ok(Ok(changed)) => debug!(changed, "local source polled"),
                Ok(Err(e)) => {
                    warn!(error = %e, "flag files are invalid; still serving the previous snapshot")
                }
                Err(e) => warn!(error = %e, "reload task failed"),
            }
        }
    }
}

/// Whether an event path can affect the flags: anything except what lies in
/// hidden directories (`.git`, ConfigMap internals), which the walk skips too.
fn relevant(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return true;
    };
    let mut parts = rel.components().peekable();
    while let Some(part) = parts.next() {
        let hidden = part
            .as_os_str()
            .to_str()
            .is_some_and(|n| n.starts_with('.'));
        if hidden && parts.peek().is_some() {
            return false;
        }
    }
    true
}

fn start_watcher(root: &Path, tx: mpsc::Sender<()>) -> notify::Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let filter_root = root.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let wanted = match &event {
            Ok(ev) => {
                !matches!(ev.kind, notify::EventKind::Access(_))
                    && (ev.paths.is_empty() || ev.paths.iter().any(|p| relevant(&filter_root, p)))
            }
            // A watcher error (e.g. queue overflow) may hide changes: reload.
            Err(_) => true,
        };
        if wanted {
            // A full channel already means "reload pending".
            let _ = tx.try_send(());
        }
    })?;
    watcher.watch(&root, notify::RecursiveMode::Recursive)?;
    Ok(watcher)
}

/// Logs a swap with the old and new revisions and which flags changed.
pub(crate) fn log_swap(old: &Snapshot, old_rev: &str, new: &Snapshot, new_rev: &str) {
    let diff = guidon_core::diff::changes(old, new);
    info!(
        old_revision = old_rev,
        new_revision = new_rev,
        added = ?diff.added,
        removed = ?diff.removed,
        modified = ?diff.modified,
        segments_changed = ?diff.segments,
        flags = new.flag_count(),
        "serving new flag snapshot"
    );
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the files of `root` selected by its index (blocking I/O).
pub fn read_dir_files(root: &Path) -> Result<Files, SourceError> {
    let index_path = root.join(INDEX_FILE);
    let index = match std::fs::read_to_string(&index_path) {
        Ok(text) => Index::parse(&text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index::default(),
        Err(e) => return Err(io_err(&index_path)(e)),
    };
    let mut rel_paths = Vec::new();
    walk(root, "", &mut rel_paths)?;
    rel_paths.retain(|p| index.selects(p));
    rel_paths.sort();
    let mut files = Vec::with_capacity(rel_paths.len());
    for rel in rel_paths {
        let path = root.join(&rel);
        let meta = std::fs::metadata(&path).map_err(io_err(&path))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(SourceError::TooLarge(path));
        }
        let contents = std::fs::read(&path).map_err(io_err(&path))?;
        files.push((rel, contents));
    }
    Ok(Files::new(files))
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), SourceError> {
    let entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let rel = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let file_type = entry.file_type().map_err(io_err(&entry.path()))?;
        if file_type.is_dir() {
            if !name.starts_with('.') {
                walk(&entry.path(), &rel, out)?;
            }
        } else if file_type.is_file()
            || (file_type.is_symlink()
                && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()))
        {
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use guidon_core::{Bucketing, EvalRequest};

    const V1: &str = "flags:\n  - {key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: false}\n";
    const V2: &str = "flags:\n  - {key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: true}\n";
    const BROKEN: &str = "flags:\n  - {key: 'bad key', name: F}\n";

    fn enabled(store: &SnapshotStore) -> bool {
        let p = store.load();
        let ctx: [(&str, &str); 0] = [];
        let req = EvalRequest {
            namespace: "default",
            flag: "f",
            entity_id: "e",
            context: &ctx,
        };
        p.snapshot
            .boolean(&req)
            .map(|r| r.enabled)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn store() -> Arc<SnapshotStore> {
        SnapshotStore::new("local", "test", Bucketing::Normalized)
    }

    #[test]
    fn reload_publishes_only_on_change_and_keeps_good_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("features.yml"), V1).unwrap();
        let src = LocalSource::new(dir.path(), CompileOptions::default());
        let store = store();
        let mut version = store.subscribe();
        assert!(src.reload(&store).unwrap());
        assert!(!enabled(&store));
        let rev1 = store.load().revision.clone();
        assert_eq!(rev1.len(), 40);
        version.mark_unchanged();

        // Unchanged content: nothing published.
        assert!(!src.reload(&store).unwrap());
        assert!(!version.has_changed().unwrap());

        // A broken edit keeps the last good snapshot and is reported.
        std::fs::write(dir.path().join("features.yml"), BROKEN).unwrap();
        let err = src.reload(&store).unwrap_err().to_string();
        assert!(err.contains("flags[0].key"), "{err}");
        assert!(!enabled(&store));
        let st = store.status();
        assert!(st.degraded);
        assert_eq!(st.revision, rev1);
        assert!(
            st.last_error
                .as_deref()
                .unwrap()
                .contains("invalid characters")
        );
        // Reading the same broken content again keeps the error and does not re-parse.
        assert!(!src.reload(&store).unwrap());
        let again = store.status();
        assert!(again.degraded && again.last_error.is_some());
        assert_eq!(again.loads, st.loads);

        // A good edit replaces it and clears the error.
        std::fs::write(dir.path().join("features.yml"), V2).unwrap();
        assert!(src.reload(&store).unwrap());
        assert!(enabled(&store));
        let st = store.status();
        assert!(!st.degraded && st.last_error.is_none());
        assert_ne!(st.revision, rev1);
        assert_eq!((st.flags, st.namespaces), (1, 1));
    }

    #[test]
    fn events_in_hidden_directories_are_ignored() {
        let root = Path::new("/srv/flags");
        assert!(relevant(root, Path::new("/srv/flags/features.yml")));
        assert!(relevant(root, Path::new("/srv/flags/.flipt.yml")));
        assert!(relevant(root, Path::new("/srv/flags/team/a.features.yml")));
        assert!(relevant(root, Path::new("/srv/flags/.hidden-dir")));
        assert!(!relevant(root, Path::new("/srv/flags/.git/index.lock")));
        assert!(!relevant(
            root,
            Path::new("/srv/flags/..2026_01_01/features.yml")
        ));
        assert!(relevant(Path::new("/elsewhere"), Path::new("/srv/x")));
    }

    #[tokio::test]
    async fn a_stream_of_events_cannot_postpone_reloads_forever() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("features.yml"), V1).unwrap();
        let mut src = LocalSource::new(dir.path(), CompileOptions::default());
        src.poll_interval = Duration::from_secs(3600);
        src.max_debounce = Duration::from_millis(500);
        let store = store();
        src.reload(&store).unwrap();
        let mut version = store.subscribe();
        version.mark_unchanged();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(src.run(
            Arc::clone(&store),
            tokio::sync::watch::channel(0).1,
            async {
                let _ = stop_rx.await;
            },
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        std::fs::write(dir.path().join("features.yml"), V2).unwrap();
        // Something else keeps writing every 50 ms (shorter than the debounce).
        let noise = dir.path().join("app.log");
        let started = std::time::Instant::now();
        while !version.has_changed().unwrap() {
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "reload postponed by the event stream"
            );
            std::fs::write(&noise, format!("{:?}", started.elapsed())).unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(enabled(&store));
        stop_tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("stops promptly")
            .unwrap();
    }

    #[test]
    fn walk_follows_index_and_skips_hidden_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("prod")).unwrap();
        std::fs::create_dir_all(p.join(".git")).unwrap();
        std::fs::create_dir_all(p.join("tmp")).unwrap();
        std::fs::write(p.join("prod/app.features.yml"), V1).unwrap();
        std::fs::write(p.join(".git/features.yml"), V1).unwrap();
        std::fs::write(p.join("tmp/features.yml"), V1).unwrap();
        std::fs::write(p.join("notes.yml"), "x: [").unwrap();
        let files = read_dir_files(p).unwrap();
        let paths: Vec<&str> = files.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["prod/app.features.yml", "tmp/features.yml"]);

        std::fs::write(
            p.join(INDEX_FILE),
            "version: \"1.0\"\ninclude: [\"**/*.yml\"]\nexclude: [\"tmp/**\"]\n",
        )
        .unwrap();
        let files = read_dir_files(p).unwrap();
        let paths: Vec<&str> = files.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["prod/app.features.yml"]);
    }

    #[tokio::test]
    async fn run_picks_up_edits_without_restart() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("features.yml"), V1).unwrap();
        let mut src = LocalSource::new(dir.path(), CompileOptions::default());
        // Long poll interval: the change must arrive through file-system events.
        src.poll_interval = Duration::from_secs(3600);
        let store = store();
        src.reload(&store).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(src.run(
            Arc::clone(&store),
            tokio::sync::watch::channel(0).1,
            async {
                let _ = stop_rx.await;
            },
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut version = store.subscribe();
        version.mark_unchanged();
        std::fs::write(dir.path().join("features.yml"), V2).unwrap();
        tokio::time::timeout(Duration::from_secs(1), version.changed())
            .await
            .expect("change served within 1 s")
            .unwrap();
        assert!(enabled(&store));
        stop_tx.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn polling_alone_picks_up_edits() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("features.yml"), V1).unwrap();
        let mut src = LocalSource::new(dir.path(), CompileOptions::default());
        src.watch = false;
        src.poll_interval = Duration::from_millis(50);
        let store = store();
        src.reload(&store).unwrap();
        let mut version = store.subscribe();
        version.mark_unchanged();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(src.run(
            Arc::clone(&store),
            tokio::sync::watch::channel(0).1,
            async {
                let _ = stop_rx.await;
            },
        ));
        std::fs::write(dir.path().join("features.yml"), V2).unwrap();
        tokio::time::timeout(Duration::from_secs(2), version.changed())
            .await
            .unwrap()
            .unwrap();
        assert!(enabled(&store));
        stop_tx.send(()).unwrap();
        task.await.unwrap();
    }
}
