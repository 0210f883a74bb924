use std::time::{Duration, Instant};

use crate::util::{Server, flag_dir, flag_enabled};

fn doc(enabled: bool) -> String {
    format!("flags:\n  - {{key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: {enabled}}}\n")
}

async fn enabled(srv: &Server) -> bool {
    flag_enabled(srv, "default", "f").await
}

#[tokio::test]
async fn edits_are_served_without_restart_and_broken_edits_are_not() {
    let dir = flag_dir(&doc(false));
    // Long poll interval: propagation must come from file-system events.
    let cfg = dir.path().join("guidon.yml");
    std::fs::write(&cfg, "storage:\n  local:\n    poll_interval: 1h\n").unwrap();
    let srv = Server::start(dir.path(), &["--config", cfg.to_str().unwrap()]);
    assert!(!enabled(&srv).await);

    std::fs::write(dir.path().join("features.yml"), doc(true)).unwrap();
    let start = Instant::now();
    while !enabled(&srv).await {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "change not served within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A broken file never replaces the good snapshot.
    std::fs::write(
        dir.path().join("features.yml"),
        "flags:\n  - {key: f, name: F, type: NOPE}\n",
    )
    .unwrap();
    let start = Instant::now();
    let mut logged = false;
    while start.elapsed() < Duration::from_secs(2) {
        assert!(enabled(&srv).await, "broken edit must not be served");
        while let Ok(line) = srv.logs.try_recv() {
            logged |= line.contains("flags[0].type") && line.contains("previous snapshot");
        }
        if logged {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(logged, "the invalid edit is reported in the log");

    // Fixing it is picked up again.
    std::fs::write(dir.path().join("features.yml"), doc(false)).unwrap();
    let start = Instant::now();
    while enabled(&srv).await {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "fix not served within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sighup_forces_an_immediate_reread() {
    let dir = flag_dir(&doc(false));
    // No file watching, hourly polls: only SIGHUP can bring the change in.
    let cfg = dir.path().join("guidon.yml");
    std::fs::write(
        &cfg,
        "storage:\n  local:\n    watch: false\n    poll_interval: 1h\n",
    )
    .unwrap();
    let srv = Server::start(dir.path(), &["--config", cfg.to_str().unwrap()]);
    assert!(!enabled(&srv).await);
    std::fs::write(dir.path().join("features.yml"), doc(true)).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!enabled(&srv).await, "no watcher, no poll yet");
    let pid = srv.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let start = Instant::now();
    while !enabled(&srv).await {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "SIGHUP did not re-read the files"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
