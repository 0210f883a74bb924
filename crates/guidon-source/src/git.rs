//! Git repositories (`storage.type: git`).
//!
//! Guidon drives the `git` command-line tool (present wherever git is), which
//! brings every transport and credential mechanism git itself supports:
//! `https://` with basic or token authentication, `ssh://` and scp-style URLs
//! with a private key, `git://` and `file://`. The repository is kept bare in
//! `storage.git.backend.path` (or a private temporary directory). Each poll
//! fetches, resolves the configured ref (a branch, tag or commit; or, with
//! `ref_type: semver`, the highest tag matching a semver constraint such as
//! `^1.2`), and reads the files of that commit under `directory` only when the
//! commit changed. The revision reported is the commit SHA.
//!
//! Credentials are passed through the environment of the git process
//! (`GIT_CONFIG_*`, `GIT_SSH_COMMAND`), never on its command line or in logs,
//! and git is never allowed to prompt.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use guidon_core::Index;
use guidon_core::index::INDEX_FILE;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::SourceError;
use crate::local::{Files, MAX_FILE_BYTES};
use crate::poll::{Fetched, Fetcher};

/// How `reference` is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefType {
    /// A branch, tag or commit.
    #[default]
    Static,
    /// A semver constraint over tags (`^1.2`, `>=1.0, <2`); the highest match wins.
    Semver,
}

/// Credentials for the remote.
#[derive(Clone, Default)]
pub enum GitAuth {
    /// None (public repositories, `file://`, `git://`).
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// An HTTP bearer token.
    Token(String),
    /// An SSH private key.
    Ssh {
        /// Path of the private key file.
        private_key_path: PathBuf,
        /// Skip host key verification.
        insecure_ignore_host_key: bool,
    },
}

impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.write_str(match self {
            Self::None => "None",
            Self::Basic { .. } => "Basic(..)",
            Self::Token(_) => "Token(..)",
            Self::Ssh { .. } => "Ssh(..)",
        })
    }
}

/// Where the flags live.
#[derive(Clone, Default)]
pub struct GitConfig {
    /// Repository URL.
    pub repository: String,
    /// Branch, tag, commit, or semver constraint.
    pub reference: String,
    /// How to read `reference`.
    pub ref_type: RefType,
    /// Sub-directory holding the flag files (empty for the root).
    pub directory: String,
    /// Credentials.
    pub auth: GitAuth,
    /// Where to keep the bare repository (a private temporary directory when `None`).
    pub path: Option<PathBuf>,
    /// CA bundle for HTTPS.
    pub ca_cert_path: Option<PathBuf>,
    /// Skip TLS verification.
    pub insecure_skip_tls: bool,
}

impl std::fmt::Debug for GitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitConfig")
            .field("repository", &redact(&self.repository))
            .field("reference", &self.reference)
            .field("ref_type", &self.ref_type)
            .field("directory", &self.directory)
            .field("auth", &self.auth)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Polls one repository ref.
#[derive(Debug)]
pub struct GitFetcher {
    config: GitConfig,
    dir: PathBuf,
    owned_dir: bool,
    initialised: bool,
    commit: Option<String>,
}

/// Longest one git command may run.
const GIT_TIMEOUT: Duration = Duration::from_secs(120);

impl GitFetcher {
    /// A fetcher for `config`; nothing is cloned until the first fetch.
    pub fn new(config: GitConfig) -> Self {
        let (dir, owned_dir) = match &config.path {
            Some(p) => (p.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "guidon-git-{}-{}",
                    std::process::id(),
                    fastrand::u64(..)
                )),
                true,
            ),
        };
        Self {
            config,
            dir,
            owned_dir,
            initialised: false,
            commit: None,
        }
    }

    /// The commit served, once one was fetched.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(&self.dir)
            // Never prompt, and ignore the machine's and user's git configuration
            // (credential helpers there could prompt or hand out other credentials).
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("SSH_ASKPASS", "true")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        // Settings (the remote URL and any credentials) travel in git's
        // environment, never on its command line.
        let mut config: Vec<(&str, String)> = vec![
            ("remote.origin.url", self.config.repository.clone()),
            ("credential.helper", String::new()),
        ];
        let mut ssh = String::from("ssh -o BatchMode=yes");
        match &self.config.auth {
            GitAuth::None => {}
            GitAuth::Basic { username, password } => {
                let creds = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                config.push(("http.extraHeader", format!("Authorization: Basic {creds}")));
            }
            GitAuth::Token(token) => {
                config.push(("http.extraHeader", format!("Authorization: Bearer {token}")));
            }
            GitAuth::Ssh {
                private_key_path,
                insecure_ignore_host_key,
            } => {
                ssh.push_str(&format!(
                    " -i '{}' -o IdentitiesOnly=yes",
                    private_key_path.display().to_string().replace('\'', "")
                ));
                if *insecure_ignore_host_key {
                    ssh.push_str(" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
                }
            }
        }
        cmd.env("GIT_SSH_COMMAND", ssh);
        if let Some(ca) = &self.config.ca_cert_path {
            cmd.env("GIT_SSL_CAINFO", ca);
        }
        if self.config.insecure_skip_tls {
            cmd.env("GIT_SSL_NO_VERIFY", "true");
        }
        cmd.env("GIT_CONFIG_COUNT", config.len().to_string());
        for (i, (k, v)) in config.into_iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{i}"), k);
            cmd.env(format!("GIT_CONFIG_VALUE_{i}"), v);
        }
        cmd
    }

    /// Runs git with `args` (and `input` on stdin); returns stdout.
    async fn git(&self, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, SourceError> {
        let mut cmd = self.command();
        cmd.args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| SourceError::Git(format!("running git: {e}")))?;
        let stdin = child.stdin.take();
        let data = input.map(<[u8]>::to_vec);
        // Feed stdin while reading stdout: git writes as it reads, and a large
        // batch would otherwise fill both pipes and block both processes.
        let writer = async move {
            if let (Some(data), Some(mut stdin)) = (data, stdin) {
                let _ = stdin.write_all(&data).await;
            }
        };
        let run = async {
            let (_, out) = tokio::join!(writer, child.wait_with_output());
            out
        };
        let out = tokio::time::timeout(GIT_TIMEOUT, run)
            .await
            .map_err(|_| SourceError::Git(format!("git {} timed out", args[0])))?
            .map_err(|e| SourceError::Git(format!("running git: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(SourceError::Git(format!(
                "git {}: {}",
                args[0],
                stderr.trim()
            )));
        }
        Ok(out.stdout)
    }

    async fn ensure_repo(&mut self) -> Result<(), SourceError> {
        if self.initialised {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| SourceError::Git(format!("creating {}: {e}", self.dir.display())))?;
        if !self.dir.join("HEAD").exists() {
            self.git(&["init", "--quiet", "--bare"], None).await?;
        }
        // `origin` is configured through the environment of each command.
        self.initialised = true;
        Ok(())
    }

    async fn resolve(&self) -> Result<String, SourceError> {
        let reference = match self.config.ref_type {
            RefType::Static => self.config.reference.clone(),
            RefType::Semver => {
                let req = semver::VersionReq::parse(&self.config.reference).map_err(|e| {
                    SourceError::Git(format!(
                        "invalid semver constraint {:?}: {e}",
                        self.config.reference
                    ))
                })?;
                let tags = self.git(&["tag", "--list"], None).await?;
                let best = String::from_utf8_lossy(&tags)
                    .lines()
                    .filter_map(|t| {
                        let v = semver::Version::parse(t.trim_start_matches('v')).ok()?;
                        req.matches(&v).then(|| (v, t.to_owned()))
                    })
                    .max_by(|a, b| a.0.cmp(&b.0));
                match best {
                    Some((_, tag)) => format!("refs/tags/{tag}"),
                    None => {
                        return Err(SourceError::Git(format!(
                            "no tag matches semver constraint {:?}",
                            self.config.reference
                        )));
                    }
                }
            }
        };
        let spec = format!("{reference}^{{commit}}");
        let out = self
            .git(&["rev-parse", "--verify", "--quiet", &spec], None)
            .await
            .map_err(|_| {
                SourceError::Git(format!(
                    "reference {:?} not found in {}",
                    self.config.reference,
                    redact(&self.config.repository)
                ))
            })?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    async fn read_commit(&self, commit: &str) -> Result<Files, SourceError> {
        let dir = self.config.directory.trim_matches('/');
        let mut args = vec!["ls-tree", "-r", "-z", "--full-tree", "--name-only", commit];
        if !dir.is_empty() {
            args.extend(["--", dir]);
        }
        let listing = self.git(&args, None).await?;
        let strip = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let rels: Vec<String> = listing
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                String::from_utf8_lossy(p)
                    .strip_prefix(&strip)
                    .map(str::to_owned)
            })
            .collect();
        let index = if rels.iter().any(|r| r == INDEX_FILE) {
            let blob = self.cat(commit, &[format!("{strip}{INDEX_FILE}")]).await?;
            Index::parse(&String::from_utf8_lossy(&blob[0]))?
        } else {
            Index::default()
        };
        let mut selected: Vec<String> = rels.into_iter().filter(|r| index.selects(r)).collect();
        selected.sort();
        let paths: Vec<String> = selected.iter().map(|r| format!("{strip}{r}")).collect();
        let blobs = self.cat(commit, &paths).await?;
        let mut files = Files::new(selected.into_iter().zip(blobs).collect());
        files.revision = commit.to_owned();
        Ok(files)
    }

    /// Contents of `paths` at `commit`, through one `git cat-file --batch`.
    async fn cat(&self, commit: &str, paths: &[String]) -> Result<Vec<Vec<u8>>, SourceError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = Vec::new();
        for p in paths {
            input.extend_from_slice(format!("{commit}:{p}\n").as_bytes());
        }
        let out = self.git(&["cat-file", "--batch"], Some(&input)).await?;
        let mut blobs = Vec::with_capacity(paths.len());
        let mut rest = out.as_slice();
        for p in paths {
            let nl = rest
                .iter()
                .position(|b| *b == b'\n')
                .ok_or_else(|| SourceError::Git("truncated cat-file output".to_owned()))?;
            let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
            let size: u64 = match header.split(' ').collect::<Vec<_>>().as_slice() {
                [_, "blob", size] => size.parse().unwrap_or(u64::MAX),
                _ => return Err(SourceError::Git(format!("{p}: {header}"))),
            };
            if size > MAX_FILE_BYTES {
                return Err(SourceError::TooLarge(p.into()));
            }
            let start = nl + 1;
            let end = start + size as usize;
            let blob = rest
                .get(start..end)
                .ok_or_else(|| SourceError::Git("truncated cat-file output".to_owned()))?;
            blobs.push(blob.to_vec());
            rest = rest.get(end + 1..).unwrap_or_default();
        }
        Ok(blobs)
    }
}

impl Drop for GitFetcher {
    fn drop(&mut self) {
        if self.owned_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Fetcher for GitFetcher {
    async fn fetch(&mut self) -> Result<Fetched, SourceError> {
        self.ensure_repo().await?;
        self.git(
            &[
                "fetch",
                "--quiet",
                "--prune",
                "--prune-tags",
                "--force",
                "--tags",
                "origin",
                "+refs/heads/*:refs/heads/*",
            ],
            None,
        )
        .await?;
        let commit = self.resolve().await?;
        if self.commit.as_deref() == Some(commit.as_str()) {
            return Ok(Fetched::Unchanged);
        }
        let files = self.read_commit(&commit).await?;
        self.commit = Some(commit);
        Ok(Fetched::Files(files))
    }
}

/// The URL without any `user:password@` part.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // scp-style `user@host:path`: the user name is no secret.
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => url.to_owned(),
    }
}

/// A location string for status and logs: the URL without credentials, plus
/// the ref and directory.
pub fn location(config: &GitConfig) -> String {
    let url = redact(&config.repository);
    let dir = config.directory.trim_matches('/');
    if dir.is_empty() {
        format!("{url}@{}", config.reference)
    } else {
        format!("{url}@{}:{dir}", config.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_locations() {
        assert_eq!(
            redact("https://user:p@ss@example.com/org/flags.git"),
            "https://example.com/org/flags.git"
        );
        assert_eq!(
            redact("https://example.com/a@b/flags.git"),
            "https://example.com/a@b/flags.git"
        );
        assert_eq!(
            redact("git@github.com:org/flags.git"),
            "git@github.com:org/flags.git"
        );
        assert_eq!(redact("file:///srv/flags.git"), "file:///srv/flags.git");
        let cfg = GitConfig {
            repository: "https://x:secret@host/r.git".into(),
            reference: "main".into(),
            directory: "/flags/".into(),
            ..GitConfig::default()
        };
        assert_eq!(location(&cfg), "https://host/r.git@main:flags");
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let cfg = GitConfig {
            repository: "https://u:pw-456@host/r.git".into(),
            auth: GitAuth::Token("tok-123".into()),
            ..GitConfig::default()
        };
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("tok-123") && !shown.contains("pw-456"),
            "{shown}"
        );
    }
}
