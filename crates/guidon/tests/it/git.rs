use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Server, flag_enabled, free_port, guidon, health_source};

/// A bare "remote" repository and a working clone that commits and pushes to it.
struct Repo {
    _dir: tempfile::TempDir,
    bare: PathBuf,
    work: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Guidon Test",
            "-c",
            "user.email=test@example.com",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("origin.git");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&bare).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        git(&bare, &["init", "--quiet", "--bare", "-b", "main"]);
        git(&work, &["init", "--quiet", "-b", "main"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        Self {
            _dir: dir,
            bare,
            work,
        }
    }

    /// Writes `path`, commits and pushes `branch`; returns the commit SHA.
    fn commit(&self, path: &str, contents: &str, branch: &str) -> String {
        let file = self.work.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, contents).unwrap();
        git(&self.work, &["add", "-A"]);
        git(
            &self.work,
            &["commit", "--quiet", "--allow-empty", "-m", "update flags"],
        );
        git(
            &self.work,
            &[
                "push",
                "--quiet",
                "--force",
                "origin",
                &format!("HEAD:refs/heads/{branch}"),
            ],
        );
        git(&self.work, &["rev-parse", "HEAD"])
    }

    fn tag(&self, name: &str) {
        git(&self.work, &["tag", name]);
        git(&self.work, &["push", "--quiet", "origin", name]);
    }

    fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }
}

fn doc(enabled: bool) -> String {
    format!("flags:\n  - {{key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: {enabled}}}\n")
}

fn serve(url: &str, reference: &str, ref_type: &str, directory: &str) -> Server {
    let mut cmd = guidon();
    cmd.args(["serve", "--host", "127.0.0.1", "--http-port", "0"])
        .env("FLIPT_STORAGE_TYPE", "git")
        .env("FLIPT_STORAGE_GIT_REPOSITORY", url)
        .env("FLIPT_STORAGE_GIT_REF", reference)
        .env("FLIPT_STORAGE_GIT_REF_TYPE", ref_type)
        .env("FLIPT_STORAGE_GIT_DIRECTORY", directory)
        .env("FLIPT_STORAGE_GIT_POLL_INTERVAL", "1s");
    Server::spawn(cmd)
}

async fn enabled(srv: &Server) -> bool {
    flag_enabled(srv, "default", "f").await
}

async fn source(srv: &Server) -> Value {
    health_source(srv).await
}

async fn wait_for(srv: &Server, want: bool, what: &str) {
    let start = Instant::now();
    while enabled(srv).await != want {
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{what}: not within 4 s (poll interval plus git commands, on a loaded machine)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn commits_propagate_and_bad_commits_are_kept_out() {
    let repo = Repo::new();
    let first = repo.commit("flags/features.yml", &doc(false), "main");
    let srv = serve(&repo.url(), "main", "static", "flags");
    assert!(!enabled(&srv).await);
    let st = source(&srv).await;
    assert_eq!(st["type"], "git");
    assert_eq!(
        st["revision"],
        first.as_str(),
        "the revision is the commit SHA"
    );

    let second = repo.commit("flags/features.yml", &doc(true), "main");
    wait_for(&srv, true, "commit").await;
    assert_eq!(source(&srv).await["revision"], second.as_str());

    // A bad commit: the previous commit keeps being served, visibly degraded.
    let bad = repo.commit(
        "flags/features.yml",
        "flags:\n  - {key: f, name: F, type: NOPE}\n",
        "main",
    );
    let start = Instant::now();
    loop {
        let st = source(&srv).await;
        if st["degraded"] == true {
            assert_eq!(st["revision"], second.as_str());
            assert_eq!(st["rejectedRevision"], bad.as_str());
            assert!(
                st["lastError"].as_str().unwrap().contains("flags[0].type"),
                "{st}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "bad commit not reported"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(enabled(&srv).await);

    // Files outside `directory` are not flags.
    repo.commit("README.yml", "not: [flags", "main");
    let fixed = repo.commit("flags/features.yml", &doc(false), "main");
    wait_for(&srv, false, "fix").await;
    let st = source(&srv).await;
    assert_eq!(
        (st["revision"].as_str(), st["degraded"].as_bool()),
        (Some(fixed.as_str()), Some(false))
    );
}

#[tokio::test]
async fn branches_tags_and_semver_constraints() {
    let repo = Repo::new();
    repo.commit("features.yml", &doc(false), "main");
    repo.tag("v1.0.0");
    repo.commit("features.yml", &doc(true), "main");
    repo.tag("v1.1.0");
    repo.commit("features.yml", &doc(false), "main");
    repo.tag("v2.0.0");
    repo.commit("features.yml", &doc(true), "release");

    // The highest tag matching ^1.0 is v1.1.0 (enabled), not v2.0.0.
    let semver = serve(&repo.url(), "^1.0", "semver", "");
    assert!(enabled(&semver).await);
    let tag = serve(&repo.url(), "v2.0.0", "static", "");
    assert!(!enabled(&tag).await);
    let branch = serve(&repo.url(), "release", "static", "");
    assert!(enabled(&branch).await);

    // A new matching tag moves the semver server.
    repo.commit("features.yml", &doc(false), "main");
    repo.tag("v1.2.0");
    wait_for(&semver, false, "new semver tag").await;
    // The branch moving moves the branch server.
    repo.commit("features.yml", &doc(false), "release");
    wait_for(&branch, false, "branch update").await;
}

/// `git daemon` serving a base path on 127.0.0.1; killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn git_daemon_over_tcp() {
    let repo = Repo::new();
    repo.commit("features.yml", &doc(true), "main");
    let port = free_port();
    let base = repo.bare.parent().unwrap().to_owned();
    let _daemon = Daemon(
        Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(&base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "git daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let srv = serve(
        &format!("git://127.0.0.1:{port}/origin.git"),
        "main",
        "static",
        "",
    );
    assert!(enabled(&srv).await);
    let sha = repo.commit("features.yml", &doc(false), "main");
    wait_for(&srv, false, "commit over git://").await;
    assert_eq!(source(&srv).await["revision"], sha.as_str());
    assert!(
        source(&srv).await["location"]
            .as_str()
            .unwrap()
            .starts_with("git://127.0.0.1")
    );
}

/// A smart-HTTP git server (`git http-backend`) that demands `authorization`.
struct HttpGit(Child);

impl HttpGit {
    fn start(port: u16, root: &Path, authorization: &str) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/git_http.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(root)
            .arg(authorization)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git http server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self(child)
    }
}

impl Drop for HttpGit {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn https_style_basic_and_token_credentials() {
    let repo = Repo::new();
    repo.commit("features.yml", &doc(true), "main");
    let root = repo.bare.parent().unwrap().to_owned();
    let url_of = |port: u16| format!("http://127.0.0.1:{port}/origin.git");

    // Basic: user "flags", password "s3cret!" -> base64("flags:s3cret!").
    let port = free_port();
    let _basic = HttpGit::start(port, &root, "Basic ZmxhZ3M6czNjcmV0IQ==");
    let mut cmd = guidon();
    cmd.args(["serve", "--host", "127.0.0.1", "--http-port", "0"])
        .env("FLIPT_STORAGE_TYPE", "git")
        .env("FLIPT_STORAGE_GIT_REPOSITORY", url_of(port))
        .env("FLIPT_STORAGE_GIT_AUTHENTICATION_BASIC_USERNAME", "flags")
        .env("FLIPT_STORAGE_GIT_AUTHENTICATION_BASIC_PASSWORD", "s3cret!");
    let srv = Server::spawn(cmd);
    assert!(enabled(&srv).await);
    let st = source(&srv).await;
    assert!(!st.to_string().contains("s3cret"), "{st}");

    // Wrong credentials: a clear start-up failure, and no secret in it.
    let out = guidon()
        .args(["serve", "--host", "127.0.0.1", "--http-port", "0"])
        .env("FLIPT_STORAGE_TYPE", "git")
        .env("FLIPT_STORAGE_GIT_REPOSITORY", url_of(port))
        .env("FLIPT_STORAGE_GIT_AUTHENTICATION_BASIC_USERNAME", "flags")
        .env(
            "FLIPT_STORAGE_GIT_AUTHENTICATION_BASIC_PASSWORD",
            "wrong-pass",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("git fetch") && !err.contains("wrong-pass"),
        "{err}"
    );

    // Token: sent as a bearer token.
    let port = free_port();
    let _token = HttpGit::start(port, &root, "Bearer tok-123");
    let mut cmd = guidon();
    cmd.args(["serve", "--host", "127.0.0.1", "--http-port", "0"])
        .env("FLIPT_STORAGE_TYPE", "git")
        .env("FLIPT_STORAGE_GIT_REPOSITORY", url_of(port))
        .env(
            "FLIPT_STORAGE_GIT_AUTHENTICATION_TOKEN_ACCESS_TOKEN",
            "tok-123",
        );
    let srv = Server::spawn(cmd);
    assert!(enabled(&srv).await);
}
