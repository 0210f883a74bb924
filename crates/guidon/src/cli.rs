//! Command-line parsing and the subcommands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};
use guidon_core::{AnyResult, CompileOptions, EvalRequest, Explainer, Issue, Snapshot, SourceFile};
use guidon_server::{AppOptions, AppState, BuildInfo};
use guidon_source::local::read_dir_files;
use guidon_source::{LocalSource, SnapshotStore};
use tracing::{info, warn};

use crate::config::{Config, LogEncoding, Overrides};

/// Guidon: a Flipt-compatible feature-flag server.
#[derive(Debug, Parser)]
#[command(name = "guidon", version, about)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve flags over Flipt's HTTP API.
    Serve(ServeArgs),
    /// Validate flag files (directories use the .flipt.yml index rules).
    Validate(ValidateArgs),
    /// Evaluate one flag from files, without a server.
    Eval(EvalArgs),
    /// Check a running server's health; exit 0 only when it is SERVING.
    Health(HealthArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Config file (Flipt format). Default: ~/.config/flipt/config.yml, then
    /// /etc/flipt/config/default.yml.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Serve this flag directory (storage.type=local, storage.local.path).
    #[arg(long)]
    path: Option<PathBuf>,
    /// Listen address (server.host).
    #[arg(long)]
    host: Option<String>,
    /// HTTP port (server.http_port); 0 picks a free port.
    #[arg(long)]
    http_port: Option<u16>,
    /// Bucket formula (evaluation.bucketing).
    #[arg(long, value_enum)]
    bucketing: Option<BucketingArg>,
    /// Log level (log.level).
    #[arg(long)]
    log_level: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BucketingArg {
    Normalized,
    Legacy,
}

impl BucketingArg {
    fn to_core(self) -> guidon_core::Bucketing {
        match self {
            Self::Normalized => guidon_core::Bucketing::Normalized,
            Self::Legacy => guidon_core::Bucketing::Legacy,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Files or directories (default: the current directory).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit code when issues are found.
    #[arg(long, default_value_t = 1)]
    issue_exit_code: u8,
}

#[derive(Debug, clap::Args)]
struct EvalArgs {
    /// Flag directory (or a single file).
    #[arg(long, default_value = ".")]
    path: PathBuf,
    /// Namespace key.
    #[arg(long, short, default_value = "default")]
    namespace: String,
    /// Flag key.
    #[arg(long, short)]
    flag: String,
    /// Entity id.
    #[arg(long, short, default_value = "")]
    entity: String,
    /// Context entries, `key=value` (repeatable).
    #[arg(long = "context", short, value_parser = parse_kv)]
    context: Vec<(String, String)>,
    /// Include an explanation of every step.
    #[arg(long)]
    explain: bool,
    /// Bucket formula.
    #[arg(long, value_enum, default_value = "normalized")]
    bucketing: BucketingArg,
}

#[derive(Debug, clap::Args)]
struct HealthArgs {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected key=value, found {s:?}"))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Serve(a) => serve(a),
        Command::Validate(a) => validate(a),
        Command::Eval(a) => eval(a),
        Command::Health(a) => health(a),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cfg.log_encoding {
        LogEncoding::Json => builder.json().flatten_event(true).init(),
        LogEncoding::Console => builder.with_ansi(false).init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        host: a.host,
        http_port: a.http_port,
        path: a.path,
        bucketing: a.bucketing.map(|b| format!("{b:?}").to_ascii_lowercase()),
        log_level: a.log_level,
    };
    let cfg = Config::load(a.config.as_deref(), std::env::vars(), &overrides)?;
    init_logging(&cfg);
    if let Some(f) = &cfg.file {
        info!(file = %f.display(), "configuration file loaded");
    }
    if !cfg.ignored.is_empty() {
        info!(keys = ?cfg.ignored, "configuration keys accepted but not implemented by Guidon yet; ignored");
    }
    if !cfg.unknown_env.is_empty() {
        warn!(variables = ?cfg.unknown_env, "environment variables match no configuration key; ignored");
    }

    let opts = CompileOptions {
        bucketing: cfg.bucketing,
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let hup = catch_hangups();
        // Secret files written from the configuration live as long as this block.
        let _secrets = cfg.secrets.clone();
        // The first load must succeed (or come from the last-known-good
        // cache): serving nothing would turn every flag off.
        let source = Source::start(&cfg, opts).await?;
        let store = Arc::clone(&source.store);
        let published = store.load();
        let status = store.status();
        info!(
            storage = status.kind,
            location = %status.location,
            revision = %published.revision,
            namespaces = published.snapshot.namespaces().len(),
            flags = published.snapshot.flag_count(),
            bucketing = cfg.bucketing.as_str(),
            degraded = status.degraded,
            "flags loaded"
        );

        let addr = format!("{}:{}", cfg.host, cfg.http_port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        info!(addr = %local, "listening for HTTP on {local}");

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (repoll_tx, repoll_rx) = tokio::sync::watch::channel(0u64);
        let source_task = {
            let mut rx = stop_rx.clone();
            tokio::spawn(source.run(repoll_rx, async move {
                let _ = rx.wait_for(|s| *s).await;
            }))
        };
        let state = AppState::new(
            store,
            BuildInfo {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                authentication_required: false,
            },
        );
        let app_opts = AppOptions {
            request_timeout: cfg.request_timeout,
        };
        let mut rx = stop_rx.clone();
        let server = tokio::spawn(guidon_server::serve(
            listener,
            state,
            app_opts,
            async move {
                let _ = rx.wait_for(|s| *s).await;
            },
        ));
        let hangups = tokio::spawn(forward_hangups(repoll_tx, hup));
        shutdown_signal().await;
        info!("shutdown signal received; finishing in-flight requests");
        hangups.abort();
        let _ = stop_tx.send(true);
        match tokio::time::timeout(cfg.shutdown_timeout, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => warn!(error = %e, "server error during shutdown"),
            Ok(Err(e)) => warn!(error = %e, "server task failed"),
            Err(_) => warn!("in-flight requests did not finish within server.shutdown_timeout"),
        }
        if tokio::time::timeout(Duration::from_secs(5), source_task)
            .await
            .is_err()
        {
            warn!("the flag source did not stop within 5 s");
        }
        info!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Bumps `repoll` on every SIGHUP, so the source re-reads at once.
async fn forward_hangups(repoll: tokio::sync::watch::Sender<u64>, hup: Option<Hangups>) {
    let Some(mut hup) = hup else {
        return;
    };
    while hup.recv().await.is_some() {
        info!("SIGHUP: re-reading the flag source");
        repoll.send_modify(|n| *n += 1);
    }
}

#[cfg(unix)]
type Hangups = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Hangups = std::convert::Infallible;

/// Takes over SIGHUP (whose default action would end the process) before
/// anything slow happens.
fn catch_hangups() -> Option<Hangups> {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The configured flag source, loaded once and ready to keep itself current.
struct Source {
    store: Arc<SnapshotStore>,
    kind: SourceKind,
}

/// How a remote source keeps itself current.
struct Remote<F> {
    fetcher: F,
    poll: guidon_source::poll::PollOptions,
    opts: CompileOptions,
    cache: Option<guidon_source::cache::Cache>,
}

enum SourceKind {
    Local(LocalSource),
    S3(Remote<guidon_source::s3::S3Fetcher>),
    Git(Remote<guidon_source::git::GitFetcher>),
}

/// First load of a remote source; when it fails, the last-known-good cache is
/// served (degraded), and without one Guidon refuses to start.
async fn start_remote<F: guidon_source::poll::Fetcher>(
    mut fetcher: F,
    kind: &'static str,
    location: &str,
    cfg: &Config,
    opts: CompileOptions,
    interval: Duration,
) -> anyhow::Result<(Arc<SnapshotStore>, Remote<F>)> {
    let store = SnapshotStore::new(kind, location, cfg.bucketing);
    let cache = cfg
        .cache_dir
        .as_deref()
        .map(|dir| guidon_source::cache::Cache::new(dir, kind, location));
    if let Err(e) = guidon_source::poll::poll_once(&mut fetcher, &store, opts, cache.as_ref()).await
    {
        let restored = match &cache {
            Some(c) => guidon_source::poll::restore_from_cache(&store, c, opts, &e.to_string())
                .with_context(|| {
                    format!(
                        "reading the last-known-good snapshot {}",
                        c.path().display()
                    )
                })?,
            None => false,
        };
        if !restored {
            let hint = if cache.is_some() {
                "and storage.cache_dir holds no snapshot yet"
            } else {
                "and no storage.cache_dir is configured to fall back on"
            };
            return Err(anyhow::anyhow!(
                "loading flags from {location} failed ({e}) {hint}"
            ));
        }
    }
    let poll = guidon_source::poll::PollOptions::every(interval);
    Ok((
        store,
        Remote {
            fetcher,
            poll,
            opts,
            cache,
        },
    ))
}

impl Source {
    /// Builds the source and performs the first load (or restores the cache).
    async fn start(cfg: &Config, opts: CompileOptions) -> anyhow::Result<Self> {
        if let Some(s3) = &cfg.s3 {
            let location = s3.location();
            let fetcher = guidon_source::s3::S3Fetcher::new(s3)
                .with_context(|| format!("configuring storage.object.s3 for {location}"))?;
            let (store, remote) = start_remote(
                fetcher,
                "object",
                &location,
                cfg,
                opts,
                cfg.s3_poll_interval,
            )
            .await?;
            return Ok(Self {
                store,
                kind: SourceKind::S3(remote),
            });
        }
        if let Some(git) = &cfg.git {
            let location = guidon_source::git::location(git);
            let fetcher = guidon_source::git::GitFetcher::new(git.clone());
            let (store, remote) =
                start_remote(fetcher, "git", &location, cfg, opts, cfg.git_poll_interval).await?;
            return Ok(Self {
                store,
                kind: SourceKind::Git(remote),
            });
        }
        let root = cfg.local_path.clone();
        let location = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        let store = SnapshotStore::new("local", location.display().to_string(), cfg.bucketing);
        let mut source = LocalSource::new(&root, opts);
        source.watch = cfg.local_watch;
        source.poll_interval = cfg.local_poll_interval;
        let first = source.clone();
        let st = Arc::clone(&store);
        tokio::task::spawn_blocking(move || first.reload(&st))
            .await?
            .with_context(|| format!("loading flags from {}", location.display()))?;
        Ok(Self {
            store,
            kind: SourceKind::Local(source),
        })
    }

    /// Keeps the store current until `shutdown`; `repoll` forces a re-read.
    async fn run(
        self,
        repoll: tokio::sync::watch::Receiver<u64>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        use guidon_source::poll::run_poller;
        match self.kind {
            SourceKind::Local(source) => source.run(self.store, repoll, shutdown).await,
            SourceKind::S3(r) => {
                run_poller(
                    r.fetcher, self.store, r.poll, r.opts, r.cache, repoll, shutdown,
                )
                .await
            }
            SourceKind::Git(r) => {
                run_poller(
                    r.fetcher, self.store, r.poll, r.opts, r.cache, repoll, shutdown,
                )
                .await
            }
        }
    }
}

/// Reads a file or a directory (with index rules) into `(path, contents)` pairs.
fn read_inputs(path: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    if path.is_dir() {
        Ok(read_dir_files(path)?.files)
    } else {
        let contents =
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(vec![(path.display().to_string(), contents)])
    }
}

fn compile_inputs(path: &Path, opts: CompileOptions) -> anyhow::Result<Snapshot> {
    let files = read_inputs(path)?;
    let sources = SourceFile::from_pairs(&files);
    Ok(guidon_core::load(&sources, opts)?)
}

fn validate(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths
    };
    let mut files = Vec::new();
    for p in &paths {
        let base = if p.is_dir() { Some(p) } else { None };
        for (rel, contents) in read_inputs(p)? {
            let shown = match base {
                Some(dir) => dir.join(&rel).display().to_string(),
                None => rel,
            };
            files.push((shown, contents));
        }
    }
    let sources = SourceFile::from_pairs(&files);
    let issues: Vec<Issue> = guidon_core::validate(&sources);
    match a.format {
        Format::Json => {
            let errors: Vec<_> = issues
                .iter()
                .map(|i| {
                    serde_json::json!({
                        "message": i.message,
                        "location": {"file": i.file, "document": i.document, "path": i.path},
                    })
                })
                .collect();
            println!("{}", serde_json::json!({ "errors": errors }));
        }
        Format::Text if issues.is_empty() => {
            println!("Validation succeeded ({} files)", files.len());
        }
        Format::Text => {
            println!("Validation failed!\n");
            for i in &issues {
                println!("- Message  : {}", i.message);
                println!("  File     : {}", i.file);
                if i.document > 0 {
                    println!("  Document : {}", i.document);
                }
                if !i.path.is_empty() {
                    println!("  Path     : {}", i.path);
                }
                println!();
            }
        }
    }
    Ok(if issues.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(a.issue_exit_code)
    })
}

fn eval(a: EvalArgs) -> anyhow::Result<ExitCode> {
    let snapshot = compile_inputs(
        &a.path,
        CompileOptions {
            bucketing: a.bucketing.to_core(),
        },
    )?;
    let context: BTreeMap<String, String> = a.context.into_iter().collect();
    let req = EvalRequest {
        namespace: &a.namespace,
        flag: &a.flag,
        entity_id: &a.entity,
        context: &context,
    };
    let mut explainer = Explainer::new();
    let result = match snapshot.evaluate_traced(&req, &mut explainer) {
        Ok(r) => r,
        Err(e) => bail!("{e}"),
    };
    let mut out = match result {
        AnyResult::Variant(v) => serde_json::json!({
            "flagKey": v.flag.key,
            "namespaceKey": a.namespace,
            "type": "VARIANT_FLAG_TYPE",
            "match": v.matched,
            "reason": v.reason.as_str(),
            "variantKey": v.variant_key,
            "variantAttachment": v.variant_attachment,
            "segmentKeys": v.segment_keys.to_vec(),
        }),
        AnyResult::Boolean(b) => serde_json::json!({
            "flagKey": b.flag.key,
            "namespaceKey": a.namespace,
            "type": "BOOLEAN_FLAG_TYPE",
            "enabled": b.enabled,
            "reason": b.reason.as_str(),
            "segmentKeys": b.segment_keys.to_vec(),
        }),
    };
    if a.explain {
        out["explanation"] = serde_json::to_value(explainer.finish())?;
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn health(a: HealthArgs) -> anyhow::Result<ExitCode> {
    let url = format!("{}/health", a.url.trim_end_matches('/'));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result: anyhow::Result<bool> = rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(a.timeout))
            .build()?;
        let res = client.get(&url).send().await?;
        if !res.status().is_success() {
            return Ok(false);
        }
        let body: serde_json::Value = res.json().await?;
        Ok(body.get("status").and_then(|s| s.as_str()) == Some("SERVING"))
    });
    match result {
        Ok(true) => {
            println!("SERVING");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => {
            println!("NOT_SERVING");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            println!("UNREACHABLE: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
