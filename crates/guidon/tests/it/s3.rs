use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{
    Moto, Server, client, examples, flag_enabled, health_source, post_json, s3_server,
};

fn doc(enabled: bool) -> String {
    format!(
        "namespace: prd\nflags:\n  - {{key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: {enabled}}}\n"
    )
}

async fn enabled(srv: &Server) -> bool {
    flag_enabled(srv, "prd", "f").await
}

async fn source(srv: &Server) -> Value {
    health_source(srv).await
}

async fn metric(srv: &Server, name: &str) -> f64 {
    let text = client()
        .get(srv.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
}

/// Waits up to `limit` for `cond`, checking every 50 ms.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut cond: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn propagation_not_modified_polls_and_bad_uploads() {
    let moto = Moto::start(None);
    moto.create_bucket("flags-prd");
    moto.put("flags-prd", "prd/features.yml", &doc(false)).await;
    let srv = Server::spawn(s3_server(&moto.endpoint(), "flags-prd", "prd", "1s", None));
    assert!(!enabled(&srv).await);
    let first = source(&srv).await;
    assert_eq!(first["type"], "object");
    assert_eq!(first["location"], "s3://flags-prd/prd");

    // An unchanged bucket: polls answer 304, nothing is parsed again.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(metric(&srv, "guidon_source_loads_total").await, 1.0);
    assert_eq!(
        metric(&srv, "guidon_source_downloads_total").await,
        1.0,
        "only the first GET downloads; later ones are answered 304"
    );
    assert!(metric(&srv, "guidon_source_not_modified_total").await >= 2.0);
    assert!(metric(&srv, "guidon_source_polls_total").await >= 3.0);

    // A change is served within poll interval + 1 s.
    moto.put("flags-prd", "prd/features.yml", &doc(true)).await;
    eventually(Duration::from_secs(2), "upload served", || enabled(&srv)).await;
    let rev2 = source(&srv).await["revision"].as_str().unwrap().to_owned();
    assert_ne!(rev2, first["revision"].as_str().unwrap());

    // A bad upload keeps the good snapshot and is plainly visible.
    moto.put(
        "flags-prd",
        "prd/features.yml",
        "flags:\n  - {key: f, name: F, type: NOPE}\n",
    )
    .await;
    eventually(Duration::from_secs(3), "error reported", || async {
        source(&srv).await["degraded"] == true
    })
    .await;
    assert!(enabled(&srv).await, "still the last good flags");
    let st = source(&srv).await;
    assert_eq!(st["revision"], rev2.as_str());
    assert!(
        st["lastError"].as_str().unwrap().contains("flags[0].type"),
        "{st}"
    );
    assert_eq!(metric(&srv, "guidon_source_degraded").await, 1.0);
    assert!(metric(&srv, "guidon_source_errors_total").await >= 1.0);
    // Later polls find the same bad object: the error stays visible, and the
    // bad file is not parsed again.
    let loads = metric(&srv, "guidon_source_loads_total").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let st = source(&srv).await;
    assert_eq!(st["degraded"], true, "{st}");
    assert!(st["rejectedRevision"].is_string(), "{st}");
    assert_eq!(metric(&srv, "guidon_source_loads_total").await, loads);
    assert!(enabled(&srv).await);

    // A fix recovers.
    moto.put("flags-prd", "prd/features.yml", &doc(false)).await;
    eventually(Duration::from_secs(3), "fix served", || async {
        !enabled(&srv).await
    })
    .await;
    assert_eq!(source(&srv).await["degraded"], false);
}

#[tokio::test]
async fn outages_keep_serving_and_restarts_use_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let mut moto = Moto::start(None);
    let port = moto.port;
    moto.create_bucket("flags");
    moto.put("flags", "features.yml", &doc(true)).await;
    let srv = Server::spawn(s3_server(
        &moto.endpoint(),
        "flags",
        "",
        "1s",
        Some(cache.path()),
    ));
    assert!(enabled(&srv).await);
    let revision = source(&srv).await["revision"].as_str().unwrap().to_owned();

    // S3 goes away: answers stay correct, the source says it is degraded.
    moto.stop();
    eventually(Duration::from_secs(4), "outage noticed", || async {
        source(&srv).await["degraded"] == true
    })
    .await;
    assert!(enabled(&srv).await);
    assert_eq!(metric(&srv, "guidon_source_degraded").await, 1.0);

    // S3 comes back empty (a bucket being recreated): "no files" never turns
    // every flag off.
    let moto = Moto::start(Some(port));
    moto.create_bucket("flags");
    eventually(Duration::from_secs(5), "empty bucket rejected", || async {
        source(&srv).await["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("no flag files"))
    })
    .await;
    assert!(enabled(&srv).await);
    assert_eq!(source(&srv).await["degraded"], true);
    // Refilled: the source recovers by itself.
    moto.put("flags", "features.yml", &doc(true)).await;
    eventually(Duration::from_secs(5), "recovery", || async {
        source(&srv).await["degraded"] == false
    })
    .await;
    drop(srv);

    // A restart while S3 is down serves the cached revision, marked degraded.
    drop(moto);
    let srv = Server::spawn(s3_server(
        &format!("http://127.0.0.1:{port}"),
        "flags",
        "",
        "1s",
        Some(cache.path()),
    ));
    assert!(enabled(&srv).await);
    let st = source(&srv).await;
    assert_eq!(st["revision"], revision.as_str());
    assert_eq!(st["fromCache"], true);
    assert_eq!(st["degraded"], true);

    // A restart while S3 offers a broken file: the cached revision is served,
    // and the rejection stays visible poll after poll.
    drop(srv);
    let moto = Moto::start(Some(port));
    moto.create_bucket("flags");
    moto.put(
        "flags",
        "features.yml",
        "flags:\n  - {key: f, name: F, type: NOPE}\n",
    )
    .await;
    let srv = Server::spawn(s3_server(
        &moto.endpoint(),
        "flags",
        "",
        "1s",
        Some(cache.path()),
    ));
    assert!(enabled(&srv).await);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let st = source(&srv).await;
    assert_eq!(st["revision"], revision.as_str());
    assert_eq!(
        (st["degraded"].as_bool(), st["fromCache"].as_bool()),
        (Some(true), Some(true)),
        "{st}"
    );
    assert!(st["rejectedRevision"].is_string(), "{st}");
    assert!(
        st["lastError"].as_str().unwrap().contains("flags[0].type"),
        "{st}"
    );
    assert!(st["lastSuccess"].is_string(), "the bucket itself was read");
    drop(srv);
    drop(moto);

    // Without a cache, a start with S3 down fails, saying why.
    let empty = tempfile::tempdir().unwrap();
    let out = s3_server(
        &format!("http://127.0.0.1:{port}"),
        "flags",
        "",
        "1s",
        Some(empty.path()),
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s3://flags") && err.contains("cache_dir"),
        "{err}"
    );
}

#[tokio::test]
async fn milmove_per_environment_buckets() {
    let moto = Moto::start(None);
    let dir = examples().join("../milmove");
    for env in ["demo", "exp", "loadtest", "stg", "prd"] {
        let bucket = format!("milmove-flags-{env}");
        moto.create_bucket(&bucket);
        let body = std::fs::read_to_string(dir.join(format!("{env}.features.yaml"))).unwrap();
        moto.put(&bucket, &format!("{env}.features.yaml"), &body)
            .await;
    }
    let stg = Server::spawn(s3_server(
        &moto.endpoint(),
        "milmove-flags-stg",
        "",
        "1m",
        None,
    ));
    let prd = Server::spawn(s3_server(
        &moto.endpoint(),
        "milmove-flags-prd",
        "",
        "1m",
        None,
    ));
    let ask = |srv: &Server, ns: &str, flag: &str, app: &str| {
        let url = srv.url("/evaluate/v1/boolean");
        let body = json!({"namespaceKey": ns, "flagKey": flag, "entityId": "5e5a3a4c-1f7b-4f7e-9d6e-0b3a2c1d0e9f",
                          "context": {"applicationName": app}});
        async move { post_json(&url, body).await }
    };
    let (_, b) = ask(&stg, "stg", "boat", "mil").await;
    assert_eq!(
        (b["enabled"].as_bool(), b["reason"].as_str()),
        (Some(true), Some("MATCH_EVALUATION_REASON"))
    );
    assert_eq!(b["segmentKeys"], json!(["mil-app"]));
    let (_, b) = ask(&prd, "prd", "boat", "mil").await;
    assert_eq!(b["enabled"], false);
    let (_, b) = ask(&prd, "prd", "counselor_move_create", "office").await;
    assert_eq!(b["enabled"], false);
    let (_, b) = ask(&stg, "stg", "counselor_move_create", "office").await;
    assert_eq!(b["enabled"], true);
    // Each server only knows its own environment's namespace.
    let (s, b) = ask(&prd, "stg", "boat", "mil").await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some("namespace \"stg\" not found"))
    );
    // An unknown flag is a NotFound, which MilMove treats as "disabled".
    let (s, b) = ask(&prd, "prd", "no_such_flag", "mil").await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(5)));
}

/// An ECS-style container credentials endpoint (what Fargate serves at
/// 169.254.170.2), on 127.0.0.1: short-lived keys, and a count of requests.
struct CredentialsEndpoint {
    child: std::process::Child,
    port: u16,
    hits: tempfile::NamedTempFile,
}

impl CredentialsEndpoint {
    fn start() -> Self {
        let port = crate::util::free_port();
        let hits = tempfile::NamedTempFile::new().unwrap();
        let script = r#"
import datetime, http.server, json, sys
port, hits = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(hits, "a") as f:
            f.write(self.path + "\n")
        exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps({"AccessKeyId": "ASIATASKROLE", "SecretAccessKey": "secret", "Token": "session", "Expiration": exp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"#;
        let child = std::process::Command::new("python3")
            .args([
                "-c",
                script,
                &port.to_string(),
                hits.path().to_str().unwrap(),
            ])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "credentials endpoint did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, hits }
    }

    fn hits(&self) -> usize {
        std::fs::read_to_string(self.hits.path())
            .unwrap()
            .lines()
            .count()
    }
}

impl Drop for CredentialsEndpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn container_credentials_are_used_and_refreshed() {
    let moto = Moto::start(None);
    moto.create_bucket("flags-gov");
    moto.put("flags-gov", "features.yml", &doc(true)).await;
    let creds = CredentialsEndpoint::start();
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "pod-identity-token").unwrap();
    let mut cmd = s3_server(&moto.endpoint(), "flags-gov", "", "1s", None);
    // No static keys: only the container credentials endpoint can sign. (The
    // ECS form, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, always targets
    // 169.254.170.2, which a test may not bind; the full-URI form used by
    // EKS Pod Identity speaks the same protocol to an address we choose.)
    cmd.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("http://127.0.0.1:{}/v2/credentials/task", creds.port),
        )
        .env("FLIPT_STORAGE_OBJECT_S3_REGION", "us-gov-west-1");
    let srv = Server::spawn(cmd);
    assert!(enabled(&srv).await);
    assert!(creds.hits() >= 1);
    // Keys that expire within minutes are fetched again before they lapse.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        creds.hits() >= 2,
        "credentials were not refreshed ({} fetches)",
        creds.hits()
    );
    assert_eq!(source(&srv).await["degraded"], false);
}
