use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_guidon");

/// The repository's example flags.
pub(crate) fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flags")
}

/// A `guidon` command with no inherited Flipt/Guidon configuration.
pub(crate) fn guidon() -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("FLIPT_") || k.starts_with("GUIDON_") {
            cmd.env_remove(k);
        }
    }
    // Never pick up a config file from the machine.
    cmd.env("HOME", "/nonexistent")
        .env("XDG_CONFIG_HOME", "/nonexistent");
    cmd
}

/// A running `guidon serve`; killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) logs: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `guidon serve --path dir` on 127.0.0.1 with a free port.
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> Self {
        let mut cmd = guidon();
        cmd.args(["serve", "--host", "127.0.0.1", "--http-port", "0", "--path"])
            .arg(dir)
            .args(extra);
        Self::spawn(cmd)
    }

    pub(crate) fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn guidon");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.split("listening for HTTP on ").nth(1) {
                        let addr: String = addr
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']')
                            })
                            .collect();
                        return Self {
                            child,
                            base: format!("http://{addr}"),
                            logs: rx,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "guidon did not report its address; exit status {:?}",
                        child.try_wait()
                    );
                }
            }
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "guidon did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temp directory holding `features.yml` with `yaml`.
pub(crate) fn flag_dir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("features.yml"), yaml).unwrap();
    dir
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// POSTs `body` (raw text) and returns status and parsed JSON.
pub(crate) async fn post(
    url: &str,
    body: impl Into<reqwest::Body>,
    content_type: &str,
) -> (u16, serde_json::Value) {
    let res = client()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, json)
}

pub(crate) async fn post_json(url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    post(url, body.to_string(), "application/json").await
}
