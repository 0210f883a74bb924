use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Server, client, flag_dir};

const FLAGS: &str = r##"
version: "1.4"
flags:
  - key: color
    name: Color
    enabled: true
    variants:
      - {key: blue, name: Blue, default: true, attachment: {hex: "#00f"}}
      - {key: red, name: Red}
    rules:
      - segment: {keys: [staff, beta], operator: AND_SEGMENT_OPERATOR}
        distributions: [{variant: blue, rollout: 33.33}, {variant: red, rollout: 66.67}]
  - key: launch
    name: Launch
    type: BOOLEAN_FLAG_TYPE
    rollouts:
      - segment: {key: staff, value: true}
      - threshold: {percentage: 70, value: false}
segments:
  - key: staff
    name: Staff
    match_type: ANY_MATCH_TYPE
    constraints:
      - {type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: eq, value: admin}
  - key: beta
    name: Beta
"##;

async fn get(srv: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = client().get(srv.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn v1_snapshot_shape_etag_and_gating() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let path = "/internal/v1/evaluation/snapshot/namespace/default";
    let res = get(&srv, path, &[("X-Flipt-Accept-Server-Version", "1.47.0")]).await;
    assert_eq!(res.status().as_u16(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag.len(), 40);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["namespace"], json!({"key": "default"}));
    let color = &doc["flags"][0];
    assert_eq!(color["key"], "color");
    assert_eq!(color["type"], "VARIANT_FLAG_TYPE");
    assert_eq!(color["enabled"], true);
    assert_eq!(color["rollouts"], json!([]));
    assert_eq!(color["defaultVariant"]["key"], "blue");
    assert_eq!(color["defaultVariant"]["attachment"], r##"{"hex":"#00f"}"##);
    let rule = &color["rules"][0];
    assert_eq!(rule["rank"], 1);
    assert_eq!(rule["segmentOperator"], "AND_SEGMENT_OPERATOR");
    assert_eq!(rule["segments"][0]["key"], "staff");
    assert_eq!(rule["segments"][0]["matchType"], "ANY_SEGMENT_MATCH_TYPE");
    assert_eq!(
        rule["segments"][0]["constraints"][0]["type"],
        "ENTITY_ID_CONSTRAINT_COMPARISON_TYPE"
    );
    assert_eq!(rule["segments"][1]["constraints"], json!([]));
    let d = &rule["distributions"];
    assert_eq!(
        (d[0]["variantKey"].as_str(), d[0]["rollout"].as_f64()),
        (Some("blue"), Some(33.33))
    );
    assert_eq!(d[1]["variantAttachment"], "null");
    let launch = &doc["flags"][1];
    assert_eq!(launch["type"], "BOOLEAN_FLAG_TYPE");
    assert_eq!(launch["rules"], json!([]));
    assert_eq!(launch["rollouts"][0]["type"], "SEGMENT_ROLLOUT_TYPE");
    assert_eq!(launch["rollouts"][0]["segment"]["value"], true);
    assert_eq!(
        launch["rollouts"][0]["segment"]["segmentOperator"],
        "OR_SEGMENT_OPERATOR"
    );
    assert_eq!(
        launch["rollouts"][1],
        json!({"type": "THRESHOLD_ROLLOUT_TYPE", "rank": 2, "threshold": {"percentage": 70.0, "value": false}})
    );

    // Conditional GET: 304, no body, same ETag.
    let res = get(
        &srv,
        path,
        &[
            ("X-Flipt-Accept-Server-Version", "1.47.0"),
            ("If-None-Match", &etag),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 304);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    assert!(res.bytes().await.unwrap().is_empty());

    // Old engines: no defaultVariant before 1.47.0, no ENTITY_ID type before 1.38.0.
    let doc: Value = get(&srv, path, &[("X-Flipt-Accept-Server-Version", "1.40.0")])
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["flags"][0].get("defaultVariant").is_none());
    assert_eq!(
        doc["flags"][0]["rules"][0]["segments"][0]["constraints"][0]["type"],
        "ENTITY_ID_CONSTRAINT_COMPARISON_TYPE"
    );
    let res = get(&srv, path, &[]).await;
    assert_ne!(
        res.headers()["etag"].to_str().unwrap(),
        etag,
        "each gate has its own ETag"
    );
    let doc: Value = res.json().await.unwrap();
    assert_eq!(
        doc["flags"][0]["rules"][0]["segments"][0]["constraints"][0]["type"],
        "UNKNOWN_CONSTRAINT_COMPARISON_TYPE"
    );

    // Unknown namespace.
    let res = get(&srv, "/internal/v1/evaluation/snapshot/namespace/nope", &[]).await;
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"code": 5, "message": "namespace \"nope\" not found", "details": []})
    );

    // Any change in the namespace changes the ETag, and old ETags get full bodies.
    std::fs::write(
        dir.path().join("features.yml"),
        FLAGS.replace("rollout: 33.33", "rollout: 33.34"),
    )
    .unwrap();
    let start = Instant::now();
    loop {
        let res = get(
            &srv,
            path,
            &[
                ("X-Flipt-Accept-Server-Version", "1.47.0"),
                ("If-None-Match", &etag),
            ],
        )
        .await;
        if res.status().as_u16() == 200 {
            assert_ne!(res.headers()["etag"].to_str().unwrap(), etag);
            let doc: Value = res.json().await.unwrap();
            assert_eq!(
                doc["flags"][0]["rules"][0]["distributions"][0]["rollout"].as_f64(),
                Some(33.34)
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "edit not reflected in the snapshot"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn v2_snapshot_has_digest_and_everything() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let res = get(
        &srv,
        "/client/v2/environments/default/namespaces/default/snapshot",
        &[],
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["digest"], etag.as_str());
    assert_eq!(doc["flags"][0]["defaultVariant"]["key"], "blue");
    assert_eq!(
        doc["flags"][0]["rules"][0]["segments"][0]["constraints"][0]["type"],
        "ENTITY_ID_CONSTRAINT_COMPARISON_TYPE"
    );
    let res = get(
        &srv,
        "/client/v2/environments/default/namespaces/default/snapshot",
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 304);
}
