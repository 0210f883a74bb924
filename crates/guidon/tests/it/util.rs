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
        let mut seen: Vec<String> = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    seen.push(line.clone());
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
                        "guidon did not report its address; exit status {:?}; log:\n{}",
                        child.try_wait(),
                        seen.join("\n")
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

/// A real S3-compatible server (moto_server from PyPI) on 127.0.0.1; killed when dropped.
pub(crate) struct Moto {
    child: Child,
    pub(crate) port: u16,
}

pub(crate) fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Moto {
    /// Starts moto_server on `port` (a fresh one when `None`) and waits until it answers.
    pub(crate) fn start(port: Option<u16>) -> Self {
        let port = port.unwrap_or_else(free_port);
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "moto_server must be installed (pip install 'moto[server]'); scripts/test does it",
            );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket (signed request through boto3, which moto requires).
    pub(crate) fn create_bucket(&self, bucket: &str) {
        let status = Command::new("python3")
            .args([
                "-c",
                "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='test', \
                 aws_secret_access_key='test', region_name='us-east-1').create_bucket(Bucket=sys.argv[2])",
                &self.endpoint(),
                bucket,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "creating bucket {bucket}");
    }

    fn store(&self, bucket: &str) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    /// Uploads `body` to `bucket/key` (signed).
    pub(crate) async fn put(&self, bucket: &str, key: &str, body: &str) {
        use object_store::ObjectStoreExt;
        self.store(bucket)
            .put(
                &object_store::path::Path::from(key),
                body.as_bytes().to_vec().into(),
            )
            .await
            .unwrap();
    }

    /// Stops the server (all its data is lost, like an outage with amnesia).
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `guidon serve` reading `bucket/prefix` from `moto`, polling every `poll`.
pub(crate) fn s3_server(
    moto_endpoint: &str,
    bucket: &str,
    prefix: &str,
    poll: &str,
    cache_dir: Option<&Path>,
) -> Command {
    let mut cmd = guidon();
    cmd.args(["serve", "--host", "127.0.0.1", "--http-port", "0"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("FLIPT_STORAGE_TYPE", "object")
        .env("FLIPT_STORAGE_OBJECT_TYPE", "s3")
        .env("FLIPT_STORAGE_OBJECT_S3_BUCKET", bucket)
        .env("FLIPT_STORAGE_OBJECT_S3_PREFIX", prefix)
        .env("FLIPT_STORAGE_OBJECT_S3_ENDPOINT", moto_endpoint)
        .env("FLIPT_STORAGE_OBJECT_S3_POLL_INTERVAL", poll);
    if let Some(dir) = cache_dir {
        cmd.env("GUIDON_STORAGE_CACHE_DIR", dir);
    }
    cmd
}

/// The first source in `/health`'s detail (asserting health is SERVING: a
/// degraded source never fails it).
pub(crate) async fn health_source(srv: &Server) -> serde_json::Value {
    let h: serde_json::Value = client()
        .get(srv.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        h["status"], "SERVING",
        "a degraded source never fails health: {h}"
    );
    h["detail"]["sources"][0].clone()
}

/// Evaluates the boolean flag `flag` in `namespace` for entity `e`.
pub(crate) async fn flag_enabled(srv: &Server, namespace: &str, flag: &str) -> bool {
    let (s, b) = post_json(
        &srv.url("/evaluate/v1/boolean"),
        serde_json::json!({"namespaceKey": namespace, "flagKey": flag, "entityId": "e"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["enabled"].as_bool().unwrap()
}
