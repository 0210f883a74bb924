use std::process::Stdio;

use crate::util::{Server, examples, flag_dir, guidon};

#[test]
fn validate_reports_issues_with_exit_code() {
    let out = guidon().arg("validate").arg(examples()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let dir =
        flag_dir("version: \"1.0\"\nflags:\n  - {key: f, name: F, type: BOOLEAN_FLAG_TYPE}\n");
    let out = guidon().arg("validate").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("flag.type is supported in version >=1.1, found 1.0"),
        "{text}"
    );
    assert!(text.contains("Path     : flags[0].type"), "{text}");

    let out = guidon()
        .args(["validate", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"][0]["location"]["path"], "flags[0].type");
    assert_eq!(v["errors"][0]["location"]["document"], 1);
}

#[test]
fn eval_explains_from_files() {
    let out = guidon()
        .args([
            "eval",
            "--namespace",
            "prd",
            "--flag",
            "multi_move",
            "--entity",
            "u1",
            "--context",
            "applicationName=mil",
            "--explain",
            "--path",
        ])
        .arg(examples())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["enabled"], true);
    assert_eq!(v["reason"], "MATCH_EVALUATION_REASON");
    assert_eq!(v["segmentKeys"], serde_json::json!(["mil-app"]));
    let step = &v["explanation"]["steps"][0];
    assert_eq!(step["kind"], "segmentRollout");
    assert_eq!(step["segments"][0]["constraints"][0]["actual"], "mil");

    let out = guidon()
        .args(["eval", "--flag", "nope", "--path"])
        .arg(examples())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("flag \"default/nope\" not found"));
}

#[test]
fn health_command_checks_a_server() {
    let srv = Server::start(&examples(), &[]);
    let ok = guidon()
        .args(["health", "--url", &srv.base])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "SERVING");
    let status = srv.terminate();
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");

    // Nothing listens there any more.
    let down = guidon()
        .args([
            "health",
            "--timeout",
            "2",
            "--url",
            &srv_base_of_closed_port(),
        ])
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
}

fn srv_base_of_closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

#[test]
fn bad_configuration_fails_at_start_naming_the_key() {
    let dir = flag_dir("flags: []\n");
    let cfg = dir.path().join("config.yml");
    std::fs::write(&cfg, "server:\n  http_prot: 80\n").unwrap();
    let out = guidon()
        .args(["serve", "--config"])
        .arg(&cfg)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.http_prot"));

    let out = guidon()
        .args(["serve", "--path"])
        .arg(dir.path())
        .env("FLIPT_SERVER_HTTP_PORT", "not-a-port")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.http_port") && err.contains("FLIPT_SERVER_HTTP_PORT"),
        "{err}"
    );
}

#[test]
fn invalid_flags_fail_at_start() {
    let dir = flag_dir("flags:\n  - {key: 'bad key', name: F}\n");
    let out = guidon()
        .args(["serve", "--http-port", "0", "--host", "127.0.0.1", "--path"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("flags[0].key"), "{err}");
}

#[test]
fn flipt_env_vars_configure_the_server() {
    let dir = flag_dir("flags:\n  - {key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: true}\n");
    let mut cmd = guidon();
    cmd.arg("serve")
        .env("FLIPT_STORAGE_TYPE", "local")
        .env("FLIPT_STORAGE_LOCAL_PATH", dir.path())
        .env("FLIPT_SERVER_HOST", "127.0.0.1")
        .env("FLIPT_SERVER_HTTP_PORT", "0")
        .env("FLIPT_LOG_ENCODING", "json")
        .env("FLIPT_CORS_ENABLED", "true");
    let srv = Server::spawn(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = rt.block_on(crate::util::post_json(
        &srv.url("/evaluate/v1/boolean"),
        serde_json::json!({"flagKey": "f", "entityId": "e"}),
    ));
    assert_eq!(body.1["enabled"], true);
}
