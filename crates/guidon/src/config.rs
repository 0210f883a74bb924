//! Configuration in Flipt's format: a YAML file, then `FLIPT_*` and `GUIDON_*`
//! environment variables, then command-line flags (each layer overriding the one
//! before).
//!
//! Every key of Flipt's v1 schema is accepted so an existing Flipt config file and
//! task definition keep working; keys Guidon does not implement yet are logged
//! once at start as ignored. A key in neither schema is an error in a file (a typo
//! must not pass silently) and a warning in the environment. An invalid value for
//! a known key is always an error naming the key.
//!
//! Environment variables map onto *known* keys only: `FLIPT_SERVER_HTTP_PORT` is
//! `server.http_port` (not `server.http.port`), found by comparing against the
//! schema below with `.` replaced by `_`, as Flipt's viper setup does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use guidon_core::Bucketing;
use serde_json::{Map, Value};

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error("reading config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A key that neither Flipt nor Guidon knows.
    #[error("config file {path}: unknown key {key:?}")]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: String,
    },
    /// A known key with a bad value.
    #[error("invalid value for {key} ({origin}): {message}")]
    Invalid {
        /// The dotted key.
        key: String,
        /// Where the value came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// Schema nodes: a key Guidon implements, a key only Flipt knows (ignored), or
/// a subtree Guidon accepts without looking inside (Flipt sections not
/// implemented yet, or free-form maps).
#[derive(Clone, Copy)]
enum Node {
    Used,
    Ignored,
    Section(&'static [(&'static str, Node)]),
    AnyIgnored,
}

use Node::{AnyIgnored, Ignored, Section, Used};

const LOG: &[(&str, Node)] = &[
    ("level", Used),
    ("encoding", Used),
    ("file", Ignored),
    ("grpc_level", Ignored),
    ("keys", AnyIgnored),
];
const SERVER: &[(&str, Node)] = &[
    ("protocol", Used),
    ("host", Used),
    ("http_port", Used),
    ("https_port", Ignored),
    ("grpc_port", Ignored),
    ("cert_file", Ignored),
    ("cert_key", Ignored),
    ("grpc_conn_max_idle_time", Ignored),
    ("grpc_conn_max_age", Ignored),
    ("grpc_conn_max_age_grace", Ignored),
    ("cloud", AnyIgnored),
    // Guidon's own.
    ("shutdown_timeout", Used),
    ("request_timeout", Used),
];
const STORAGE_LOCAL: &[(&str, Node)] = &[
    ("path", Used),
    // Guidon's own.
    ("watch", Used),
    ("poll_interval", Used),
];
const STORAGE_S3: &[(&str, Node)] = &[
    ("bucket", Used),
    ("prefix", Used),
    ("region", Used),
    ("endpoint", Used),
    ("poll_interval", Used),
];
const GIT_BASIC: &[(&str, Node)] = &[("username", Used), ("password", Used)];
const GIT_TOKEN: &[(&str, Node)] = &[("access_token", Used)];
const GIT_SSH: &[(&str, Node)] = &[
    ("user", Ignored),
    ("password", Ignored),
    ("private_key_path", Used),
    ("private_key_bytes", Used),
    ("insecure_ignore_host_key", Used),
];
const GIT_AUTH: &[(&str, Node)] = &[
    ("basic", Section(GIT_BASIC)),
    ("token", Section(GIT_TOKEN)),
    ("ssh", Section(GIT_SSH)),
];
const GIT_BACKEND: &[(&str, Node)] = &[("type", Used), ("path", Used)];
const STORAGE_GIT: &[(&str, Node)] = &[
    ("repository", Used),
    ("ref", Used),
    ("ref_type", Used),
    ("directory", Used),
    ("poll_interval", Used),
    ("backend", Section(GIT_BACKEND)),
    ("authentication", Section(GIT_AUTH)),
    ("ca_cert_path", Used),
    ("ca_cert_bytes", Used),
    ("insecure_skip_tls", Used),
];
const STORAGE_OBJECT: &[(&str, Node)] = &[
    ("type", Used),
    ("s3", Section(STORAGE_S3)),
    ("azblob", AnyIgnored),
    ("googlecloud", AnyIgnored),
];
const STORAGE: &[(&str, Node)] = &[
    ("type", Used),
    ("read_only", Ignored),
    ("local", Section(STORAGE_LOCAL)),
    ("git", Section(STORAGE_GIT)),
    ("object", Section(STORAGE_OBJECT)),
    ("oci", AnyIgnored),
    // Guidon's own: where last-known-good snapshots are kept.
    ("cache_dir", Used),
];
const EVALUATION: &[(&str, Node)] = &[("bucketing", Used)];
const ROOT: &[(&str, Node)] = &[
    ("version", Ignored),
    ("log", Section(LOG)),
    ("server", Section(SERVER)),
    ("storage", Section(STORAGE)),
    ("evaluation", Section(EVALUATION)),
    ("ui", AnyIgnored),
    ("cors", AnyIgnored),
    ("cache", AnyIgnored),
    ("diagnostics", AnyIgnored),
    ("metrics", AnyIgnored),
    ("tracing", AnyIgnored),
    ("db", AnyIgnored),
    ("meta", AnyIgnored),
    ("authentication", AnyIgnored),
    ("authorization", AnyIgnored),
    ("audit", AnyIgnored),
    ("analytics", AnyIgnored),
    ("experimental", AnyIgnored),
    ("license", AnyIgnored),
];

/// Every leaf key path of the schema that can be set from the environment.
fn leaf_keys(nodes: &[(&'static str, Node)], prefix: &str, out: &mut Vec<(String, bool)>) {
    for (name, node) in nodes {
        let key = if prefix.is_empty() {
            (*name).to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        match node {
            Used => out.push((key, true)),
            Ignored | AnyIgnored => out.push((key, false)),
            Section(children) => leaf_keys(children, &key, out),
        }
    }
}

/// Checks a parsed file against the schema: unknown keys are errors, ignored
/// ones are returned.
fn check_file(
    value: &Value,
    nodes: &[(&str, Node)],
    prefix: &str,
    path: &Path,
    ignored: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let Value::Object(map) = value else {
        return Ok(());
    };
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match nodes.iter().find(|(n, _)| n == k).map(|(_, node)| *node) {
            None => {
                return Err(ConfigError::UnknownKey {
                    path: path.to_owned(),
                    key,
                });
            }
            Some(Used) => {}
            Some(Ignored) | Some(AnyIgnored) => {
                if !v.is_null() {
                    ignored.push(key);
                }
            }
            Some(Section(children)) => match v {
                Value::Object(_) | Value::Null => check_file(v, children, &key, path, ignored)?,
                other => {
                    return Err(ConfigError::Invalid {
                        key,
                        origin: format!("file {}", path.display()),
                        message: format!("expected a mapping of settings, found {other}"),
                    });
                }
            },
        }
    }
    Ok(())
}

/// Log encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogEncoding {
    /// Human-readable lines.
    Console,
    /// One JSON object per line.
    Json,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// `log.level`: a tracing filter (`info`, `debug`, `guidon=debug`, ...).
    pub(crate) log_level: String,
    /// `log.encoding`.
    pub(crate) log_encoding: LogEncoding,
    /// `server.host`.
    pub(crate) host: String,
    /// `server.http_port`.
    pub(crate) http_port: u16,
    /// `server.shutdown_timeout` (Guidon): how long in-flight requests may take to
    /// finish after a shutdown signal.
    pub(crate) shutdown_timeout: Duration,
    /// `server.request_timeout` (Guidon).
    pub(crate) request_timeout: Duration,
    /// `storage.object.s3.*` when `storage.type` is `object` (else the
    /// `local` directory below is served).
    pub(crate) s3: Option<guidon_source::s3::S3Config>,
    /// `storage.object.s3.poll_interval` (Flipt's default: 1m).
    pub(crate) s3_poll_interval: Duration,
    /// `storage.git.*` when `storage.type` is `git`.
    pub(crate) git: Option<guidon_source::git::GitConfig>,
    /// Private files holding secrets from the configuration (kept for the
    /// lifetime of the process, deleted at exit).
    pub(crate) secrets: Vec<SecretFile>,
    /// `storage.git.poll_interval` (Flipt's default: 30s).
    pub(crate) git_poll_interval: Duration,
    /// `storage.cache_dir` (Guidon): last-known-good snapshots.
    pub(crate) cache_dir: Option<PathBuf>,
    /// `storage.local.path`.
    pub(crate) local_path: PathBuf,
    /// `storage.local.watch` (Guidon).
    pub(crate) local_watch: bool,
    /// `storage.local.poll_interval` (Guidon).
    pub(crate) local_poll_interval: Duration,
    /// `evaluation.bucketing` (Guidon): `normalized` (Flipt ≥ 2.9) or `legacy`.
    pub(crate) bucketing: Bucketing,
    /// Keys set somewhere that Guidon accepts but does not implement yet.
    pub(crate) ignored: Vec<String>,
    /// Environment variables that match no known key.
    pub(crate) unknown_env: Vec<String>,
    /// The file read, if any.
    pub(crate) file: Option<PathBuf>,
}

/// Overrides from command-line flags.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    /// `server.host`.
    pub(crate) host: Option<String>,
    /// `server.http_port`.
    pub(crate) http_port: Option<u16>,
    /// `storage.local.path` (implies `storage.type: local`).
    pub(crate) path: Option<PathBuf>,
    /// `evaluation.bucketing`.
    pub(crate) bucketing: Option<String>,
    /// `log.level`.
    pub(crate) log_level: Option<String>,
}

/// The config file Flipt would read: `--config`, else the user config dir, else
/// `/etc/flipt/config/default.yml`.
pub(crate) fn default_config_file() -> Option<PathBuf> {
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("flipt/config.yml"));
    user.into_iter()
        .chain([PathBuf::from("/etc/flipt/config/default.yml")])
        .find(|p| p.is_file())
}

/// Where each value came from, for error messages.
type Origins = BTreeMap<String, String>;

fn set_path(root: &mut Map<String, Value>, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut cur = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(part.to_owned(), value);
            return;
        }
        let entry = cur
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        cur = next;
    }
}

fn get_path<'a>(root: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.')
        .try_fold(root, |v, part| v.get(part))
        .filter(|v| !v.is_null())
}

/// Parses a Go duration (`300ms`, `1.5s`, `2m`, `1h30m`); a bare number is seconds.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&i| i > 0)?;
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).ok()
}

struct Reader<'a> {
    root: &'a Value,
    origins: &'a Origins,
}

impl Reader<'_> {
    fn invalid(&self, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            key: key.to_owned(),
            origin: self
                .origins
                .get(key)
                .cloned()
                .unwrap_or_else(|| "default".to_owned()),
            message,
        }
    }

    fn string(&self, key: &str, default: &str) -> Result<String, ConfigError> {
        match get_path(self.root, key) {
            None => Ok(default.to_owned()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(other) => Err(self.invalid(key, format!("expected a string, found {other}"))),
        }
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match get_path(self.root, key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => guidon_core::goparse::parse_bool(s)
                .ok_or_else(|| self.invalid(key, format!("expected true or false, found {s:?}"))),
            Some(other) => Err(self.invalid(key, format!("expected true or false, found {other}"))),
        }
    }

    fn port(&self, key: &str, default: u16) -> Result<u16, ConfigError> {
        let raw = self.string(key, &default.to_string())?;
        raw.trim().parse::<u16>().map_err(|_| {
            self.invalid(
                key,
                format!("expected a port number (0-65535), found {raw:?}"),
            )
        })
    }

    fn duration(&self, key: &str, default: Duration) -> Result<Duration, ConfigError> {
        match get_path(self.root, key) {
            None => Ok(default),
            Some(v) => {
                let raw = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                parse_duration(&raw).ok_or_else(|| {
                    self.invalid(
                        key,
                        format!("expected a duration like 30s or 2m, found {raw:?}"),
                    )
                })
            }
        }
    }
}

impl Reader<'_> {
    fn positive_duration(&self, key: &str, default: Duration) -> Result<Duration, ConfigError> {
        let d = self.duration(key, default)?;
        if d.is_zero() {
            return Err(self.invalid(key, "must be greater than zero".to_owned()));
        }
        Ok(d)
    }
}

impl Config {
    /// Loads the configuration from `file` (or Flipt's default locations when
    /// `None`), the environment `env`, and `overrides`.
    pub(crate) fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let file = file.map(Path::to_owned).or_else(default_config_file);
        let mut root = Map::new();
        let mut origins = Origins::new();
        let mut ignored = Vec::new();
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let parsed: Option<Value> =
                serde_saphyr::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            match parsed {
                None | Some(Value::Null) => {}
                Some(v @ Value::Object(_)) => {
                    check_file(&v, ROOT, "", path, &mut ignored)?;
                    let mut leaves = Vec::new();
                    collect_leaves(&v, "", &mut leaves);
                    for (k, _) in &leaves {
                        origins.insert(k.clone(), format!("file {}", path.display()));
                    }
                    if let Value::Object(m) = v {
                        root = m;
                    }
                }
                Some(_) => {
                    return Err(ConfigError::Parse {
                        path: path.clone(),
                        message: "expected a mapping at the top level".to_owned(),
                    });
                }
            }
        }

        // Environment: FLIPT_* first, then GUIDON_* (which wins).
        let mut leaves = Vec::new();
        leaf_keys(ROOT, "", &mut leaves);
        let mut unknown_env = Vec::new();
        let mut env: Vec<(String, String)> = env.into_iter().collect();
        env.sort_by_key(|(k, _)| (k.starts_with("GUIDON_"), k.clone()));
        for (name, value) in env {
            // As in Flipt (viper), an empty variable is as good as unset.
            if value.is_empty() {
                continue;
            }
            let Some(rest) = name
                .strip_prefix("FLIPT_")
                .or_else(|| name.strip_prefix("GUIDON_"))
            else {
                continue;
            };
            match leaves
                .iter()
                .find(|(k, _)| k.replace('.', "_").eq_ignore_ascii_case(rest))
            {
                Some((key, true)) => {
                    set_path(&mut root, key, Value::String(value));
                    origins.insert(key.clone(), format!("env {name}"));
                }
                Some((key, false)) => ignored.push(key.clone()),
                None => {
                    // Variables inside sections Guidon accepts wholesale are ignored, not unknown.
                    let lower = rest.to_ascii_lowercase();
                    let section = leaves.iter().find(|(k, used)| {
                        !used && lower.starts_with(&format!("{}_", k.replace('.', "_")))
                    });
                    if let Some((key, _)) = section {
                        ignored.push(key.clone());
                    } else if !matches!(rest, "CONFIG" | "CONFIG_FILE") {
                        unknown_env.push(name);
                    }
                }
            }
        }

        let mut set = |key: &str, v: Option<Value>| {
            if let Some(v) = v {
                set_path(&mut root, key, v);
                origins.insert(key.to_owned(), "command line".to_owned());
            }
        };
        set("server.host", overrides.host.clone().map(Value::String));
        set("server.http_port", overrides.http_port.map(Value::from));
        if let Some(p) = &overrides.path {
            set("storage.type", Some(Value::String("local".into())));
            set(
                "storage.local.path",
                Some(Value::String(p.display().to_string())),
            );
        }
        set(
            "evaluation.bucketing",
            overrides.bucketing.clone().map(Value::String),
        );
        set("log.level", overrides.log_level.clone().map(Value::String));

        let root = Value::Object(root);
        let r = Reader {
            root: &root,
            origins: &origins,
        };
        let log_encoding = match r
            .string("log.encoding", "console")?
            .to_ascii_lowercase()
            .as_str()
        {
            "console" => LogEncoding::Console,
            "json" => LogEncoding::Json,
            other => {
                return Err(r.invalid(
                    "log.encoding",
                    format!("expected console or json, found {other:?}"),
                ));
            }
        };
        let log_level = r.string("log.level", "info")?.to_ascii_lowercase();
        // Flipt's (zap) level names; a tracing directive (`guidon=debug`) is
        // accepted too, but a bare unknown word is a typo, not a target name.
        let log_level = match log_level.as_str() {
            "debug" | "info" | "warn" | "error" | "trace" => log_level,
            "warning" => "warn".to_owned(),
            "dpanic" | "panic" | "fatal" => "error".to_owned(),
            directive
                if directive.contains('=')
                    && tracing_subscriber::EnvFilter::try_new(directive).is_ok() =>
            {
                log_level
            }
            other => {
                return Err(r.invalid(
                    "log.level",
                    format!("expected debug, info, warn or error, found {other:?}"),
                ));
            }
        };
        let protocol = r.string("server.protocol", "http")?;
        if protocol != "http" {
            return Err(r.invalid(
                "server.protocol",
                format!("only http is supported, found {protocol:?}"),
            ));
        }
        let storage_type = r.string("storage.type", "local")?;
        let mut secrets = Vec::new();
        let git = if storage_type == "git" {
            Some(git_config(&r, &mut secrets)?)
        } else {
            None
        };
        let s3 = match storage_type.as_str() {
            "local" | "git" => None,
            "object" => {
                let kind = r.string("storage.object.type", "")?;
                if kind != "s3" {
                    return Err(r.invalid(
                        "storage.object.type",
                        format!("{kind:?} is not supported yet (supported: s3)"),
                    ));
                }
                let bucket = r.string("storage.object.s3.bucket", "")?;
                if bucket.is_empty() {
                    return Err(r.invalid(
                        "storage.object.s3.bucket",
                        "a bucket name is required".to_owned(),
                    ));
                }
                let optional = |key: &str| -> Result<Option<String>, ConfigError> {
                    Ok(Some(r.string(key, "")?).filter(|v| !v.is_empty()))
                };
                Some(guidon_source::s3::S3Config {
                    bucket,
                    prefix: r.string("storage.object.s3.prefix", "")?,
                    region: optional("storage.object.s3.region")?,
                    endpoint: optional("storage.object.s3.endpoint")?,
                })
            }
            other => {
                return Err(r.invalid(
                    "storage.type",
                    format!("{other:?} is not supported yet (supported: local, object, git)"),
                ));
            }
        };
        let bucketing = match r
            .string("evaluation.bucketing", "normalized")?
            .to_ascii_lowercase()
            .as_str()
        {
            "normalized" | "normalised" | "" => Bucketing::Normalized,
            "legacy" => Bucketing::Legacy,
            other => {
                return Err(r.invalid(
                    "evaluation.bucketing",
                    format!("expected normalized or legacy, found {other:?}"),
                ));
            }
        };
        let poll = r.duration("storage.local.poll_interval", Duration::from_secs(10))?;
        if poll.is_zero() {
            return Err(r.invalid(
                "storage.local.poll_interval",
                "must be greater than zero".to_owned(),
            ));
        }
        ignored.sort();
        ignored.dedup();
        Ok(Self {
            log_level,
            log_encoding,
            host: r.string("server.host", "0.0.0.0")?,
            http_port: r.port("server.http_port", 8080)?,
            shutdown_timeout: r.duration("server.shutdown_timeout", Duration::from_secs(15))?,
            request_timeout: r
                .positive_duration("server.request_timeout", Duration::from_secs(30))?,
            s3,
            git,
            secrets,
            git_poll_interval: r
                .positive_duration("storage.git.poll_interval", Duration::from_secs(30))?,
            s3_poll_interval: r
                .positive_duration("storage.object.s3.poll_interval", Duration::from_secs(60))?,
            cache_dir: Some(r.string("storage.cache_dir", "")?)
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
            local_path: PathBuf::from(r.string("storage.local.path", ".")?),
            local_watch: r.bool("storage.local.watch", true)?,
            local_poll_interval: poll,
            bucketing,
            ignored,
            unknown_env,
            file,
        })
    }
}

/// Writes secret bytes from the configuration to a private file (mode 0600),
/// so they can be handed to git by path.
/// Secret files written from configuration values; each is deleted when the
/// last reference goes away (at exit).
pub(crate) type SecretFile = std::sync::Arc<tempfile::TempPath>;

/// Writes secret bytes from the configuration to a fresh private file (created
/// exclusively, mode 0600, removed at exit), so they can be handed to git by path.
fn secret_file(
    r: &Reader<'_>,
    key: &str,
    contents: &str,
    keep: &mut Vec<SecretFile>,
) -> Result<PathBuf, ConfigError> {
    use std::io::Write;
    let written = tempfile::Builder::new()
        .prefix("guidon-secret-")
        .tempfile()
        .and_then(|mut f| {
            f.write_all(contents.as_bytes())
                .and_then(|()| f.flush())
                .map(|()| f)
        });
    let file =
        written.map_err(|e| r.invalid(key, format!("cannot write it to a private file: {e}")))?;
    let path = file.into_temp_path();
    let shown = path.to_path_buf();
    keep.push(std::sync::Arc::new(path));
    Ok(shown)
}

fn git_config(
    r: &Reader<'_>,
    keep: &mut Vec<SecretFile>,
) -> Result<guidon_source::git::GitConfig, ConfigError> {
    use guidon_source::git::{GitAuth, GitConfig, RefType};
    let repository = r.string("storage.git.repository", "")?;
    if repository.is_empty() {
        return Err(r.invalid(
            "storage.git.repository",
            "a repository URL is required".to_owned(),
        ));
    }
    let ref_type = match r.string("storage.git.ref_type", "static")?.as_str() {
        "static" | "" => RefType::Static,
        "semver" => RefType::Semver,
        other => {
            return Err(r.invalid(
                "storage.git.ref_type",
                format!("expected static or semver, found {other:?}"),
            ));
        }
    };
    let path = match r.string("storage.git.backend.type", "memory")?.as_str() {
        "memory" | "" => None,
        "local" => Some(PathBuf::from(r.string("storage.git.backend.path", "")?))
            .filter(|p| !p.as_os_str().is_empty()),
        other => {
            return Err(r.invalid(
                "storage.git.backend.type",
                format!("expected memory or local, found {other:?}"),
            ));
        }
    };
    let basic_user = r.string("storage.git.authentication.basic.username", "")?;
    let token = r.string("storage.git.authentication.token.access_token", "")?;
    let key_path = r.string("storage.git.authentication.ssh.private_key_path", "")?;
    let key_bytes = r.string("storage.git.authentication.ssh.private_key_bytes", "")?;
    let auth = if !basic_user.is_empty() {
        GitAuth::Basic {
            username: basic_user,
            password: r.string("storage.git.authentication.basic.password", "")?,
        }
    } else if !token.is_empty() {
        GitAuth::Token(token)
    } else if !key_path.is_empty() || !key_bytes.is_empty() {
        let private_key_path = if key_path.is_empty() {
            secret_file(
                r,
                "storage.git.authentication.ssh.private_key_bytes",
                &key_bytes,
                keep,
            )?
        } else {
            PathBuf::from(key_path)
        };
        GitAuth::Ssh {
            private_key_path,
            insecure_ignore_host_key: r.bool(
                "storage.git.authentication.ssh.insecure_ignore_host_key",
                false,
            )?,
        }
    } else {
        GitAuth::None
    };
    let ca_path = r.string("storage.git.ca_cert_path", "")?;
    let ca_bytes = r.string("storage.git.ca_cert_bytes", "")?;
    let ca_cert_path = if !ca_path.is_empty() {
        Some(PathBuf::from(ca_path))
    } else if !ca_bytes.is_empty() {
        Some(secret_file(
            r,
            "storage.git.ca_cert_bytes",
            &ca_bytes,
            keep,
        )?)
    } else {
        None
    };
    Ok(GitConfig {
        repository,
        reference: r.string("storage.git.ref", "main")?,
        ref_type,
        directory: r.string("storage.git.directory", "")?,
        auth,
        path,
        ca_cert_path,
        insecure_skip_tls: r.bool("storage.git.insecure_skip_tls", false)?,
    })
}

fn collect_leaves(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                collect_leaves(child, &key, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn file(yaml: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), yaml).unwrap();
        f
    }

    #[test]
    fn defaults_serve_current_directory_on_8080() {
        let f = file("");
        let c = Config::load(Some(f.path()), env(&[]), &Overrides::default()).unwrap();
        assert_eq!((c.host.as_str(), c.http_port), ("0.0.0.0", 8080));
        assert_eq!(c.local_path, PathBuf::from("."));
        assert_eq!(c.bucketing, Bucketing::Normalized);
    }

    #[test]
    fn layers_file_then_flipt_env_then_guidon_env_then_flags() {
        let f = file(
            "server:\n  http_port: 9090\n  host: 127.0.0.1\nstorage:\n  type: local\n  local:\n    path: /srv/flags\nlog:\n  level: DEBUG\n",
        );
        let c = Config::load(
            Some(f.path()),
            env(&[
                ("FLIPT_SERVER_HTTP_PORT", "7000"),
                ("GUIDON_SERVER_HTTP_PORT", "7001"),
                ("FLIPT_EVALUATION_BUCKETING", "legacy"),
                ("PATH", "/bin"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.http_port, 7001);
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.local_path, PathBuf::from("/srv/flags"));
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.bucketing, Bucketing::Legacy);
        let o = Overrides {
            http_port: Some(1234),
            ..Default::default()
        };
        let c = Config::load(
            Some(f.path()),
            env(&[("FLIPT_SERVER_HTTP_PORT", "7000")]),
            &o,
        )
        .unwrap();
        assert_eq!(c.http_port, 1234);
    }

    #[test]
    fn flipt_keys_are_accepted_and_reported_as_ignored() {
        let f = file(
            "cors:\n  enabled: true\n  allowed_origins: ['*']\nauthentication:\n  required: false\nserver:\n  grpc_port: 9000\n",
        );
        let c = Config::load(
            Some(f.path()),
            env(&[
                ("FLIPT_CACHE_ENABLED", "true"),
                ("FLIPT_TRACING_OTLP_ENDPOINT", "x"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert!(c.ignored.contains(&"cors".to_owned()), "{:?}", c.ignored);
        assert!(c.ignored.contains(&"server.grpc_port".to_owned()));
        assert!(c.ignored.contains(&"cache".to_owned()));
        assert!(c.unknown_env.is_empty(), "{:?}", c.unknown_env);
    }

    #[test]
    fn unknown_file_keys_and_bad_values_name_the_key() {
        let f = file("server:\n  http_prot: 80\n");
        let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.http_prot"), "{e}");
        let f = file("server:\n  http_port: eighty\n");
        let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("server.http_port") && e.contains("eighty") && e.contains("file"),
            "{e}"
        );
        let f = file("");
        let e = Config::load(
            Some(f.path()),
            env(&[("FLIPT_EVALUATION_BUCKETING", "fancy")]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("evaluation.bucketing") && e.contains("FLIPT_EVALUATION_BUCKETING"),
            "{e}"
        );
        let e = Config::load(
            Some(f.path()),
            env(&[("FLIPT_STORAGE_TYPE", "database")]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("storage.type"), "{e}");
        let c = Config::load(
            Some(f.path()),
            env(&[("FLIPT_SERVR_HOST", "x")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.unknown_env, ["FLIPT_SERVR_HOST"]);
    }

    #[test]
    fn review_cases_fail_or_pass_cleanly() {
        let f = file("");
        let load = |pairs: &[(&str, &str)]| {
            Config::load(Some(f.path()), env(pairs), &Overrides::default())
        };
        // Overflowing and zero durations are errors naming the key, not panics.
        let e = load(&[("GUIDON_SERVER_REQUEST_TIMEOUT", "1e20")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.request_timeout"), "{e}");
        let e = load(&[("GUIDON_SERVER_REQUEST_TIMEOUT", "0s")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("server.request_timeout") && e.contains("greater than zero"),
            "{e}"
        );
        // Level typos are caught; Flipt's names are accepted.
        let e = load(&[("FLIPT_LOG_LEVEL", "inof")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.level"), "{e}");
        assert_eq!(
            load(&[("FLIPT_LOG_LEVEL", "FATAL")]).unwrap().log_level,
            "error"
        );
        assert_eq!(
            load(&[("FLIPT_LOG_LEVEL", "guidon=debug")])
                .unwrap()
                .log_level,
            "guidon=debug"
        );
        // Empty variables are ignored.
        let c = load(&[
            ("FLIPT_SERVER_HTTP_PORT", ""),
            ("FLIPT_STORAGE_LOCAL_PATH", ""),
        ])
        .unwrap();
        assert_eq!((c.http_port, c.local_path), (8080, PathBuf::from(".")));
        // A section given as a plain value is an error, not silently ignored.
        let g = file("storage:\n  local: /srv/flags\n");
        let e = Config::load(Some(g.path()), env(&[]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("storage.local"), "{e}");
    }

    #[test]
    fn s3_storage_from_flipt_env() {
        let f = file("");
        let c = Config::load(
            Some(f.path()),
            env(&[
                ("FLIPT_STORAGE_TYPE", "object"),
                ("FLIPT_STORAGE_OBJECT_TYPE", "s3"),
                ("FLIPT_STORAGE_OBJECT_S3_BUCKET", "flags-prd"),
                ("FLIPT_STORAGE_OBJECT_S3_PREFIX", "prd/"),
                ("FLIPT_STORAGE_OBJECT_S3_REGION", "us-gov-west-1"),
                ("FLIPT_STORAGE_OBJECT_S3_POLL_INTERVAL", "30s"),
                ("GUIDON_STORAGE_CACHE_DIR", "/var/cache/guidon"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        let s3 = c.s3.unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.prefix.as_str()),
            ("flags-prd", "prd/")
        );
        assert_eq!(s3.region.as_deref(), Some("us-gov-west-1"));
        assert_eq!(s3.endpoint, None);
        assert_eq!(c.s3_poll_interval, Duration::from_secs(30));
        assert_eq!(c.cache_dir, Some(PathBuf::from("/var/cache/guidon")));
        let e = Config::load(
            Some(f.path()),
            env(&[
                ("FLIPT_STORAGE_TYPE", "object"),
                ("FLIPT_STORAGE_OBJECT_TYPE", "s3"),
            ]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("storage.object.s3.bucket"), "{e}");
        let e = Config::load(
            Some(f.path()),
            env(&[
                ("FLIPT_STORAGE_TYPE", "object"),
                ("FLIPT_STORAGE_OBJECT_TYPE", "azblob"),
            ]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("storage.object.type"), "{e}");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration(""), None);
    }
}
