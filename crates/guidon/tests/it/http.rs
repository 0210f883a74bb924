use serde_json::{Value, json};

use crate::util::{Server, client, flag_dir, post, post_json};

/// Spec §2.7 vectors #1/#2 (variant, 50/50) and #9 (threshold 70% false).
const FLAGS: &str = r#"
version: "1.4"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: boz
        name: Boz
        attachment: {b: 2, a: "<1>"}
      - key: booz
        name: Booz
    rules:
      - segment: bar
        distributions:
          - {variant: boz, rollout: 50}
          - {variant: booz, rollout: 50}
  - key: test-flag
    name: Test
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - threshold: {percentage: 70, value: false}
segments:
  - key: bar
    name: Bar
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: bar, operator: eq, value: baz}
---
namespace: team-a
flags:
  - {key: solo, name: Solo, type: BOOLEAN_FLAG_TYPE, enabled: true}
"#;

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn variant_response_has_flipt_shape() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let (status, body) = post_json(
        &srv.url("/evaluate/v1/variant"),
        json!({"namespaceKey": "default", "flagKey": "foo", "entityId": "1", "context": {"bar": "baz"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let obj = body.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "match",
            "segmentKeys",
            "reason",
            "variantKey",
            "variantAttachment",
            "requestId",
            "requestDurationMillis",
            "timestamp",
            "flagKey"
        ]
    );
    assert_eq!(body["match"], true);
    assert_eq!(body["segmentKeys"], json!(["bar"]));
    assert_eq!(body["reason"], "MATCH_EVALUATION_REASON");
    assert_eq!(body["variantKey"], "boz");
    assert_eq!(body["variantAttachment"], r#"{"a":"\u003c1\u003e","b":2}"#);
    assert!(is_uuid(body["requestId"].as_str().unwrap()), "{body}");
    assert!(body["requestDurationMillis"].as_f64().unwrap() >= 0.0);
    let ts = body["timestamp"].as_str().unwrap();
    assert!(
        ts.ends_with('Z') && ts.len() >= 20 && &ts[10..11] == "T",
        "{ts}"
    );
    assert_eq!(body["flagKey"], "foo");

    let (_, body) = post_json(
        &srv.url("/evaluate/v1/variant"),
        json!({"flagKey": "foo", "entityId": "2", "context": {"bar": "baz"}, "requestId": "abc"}),
    )
    .await;
    assert_eq!(body["variantKey"], "booz");
    assert_eq!(body["variantAttachment"], "null");
    assert_eq!(body["requestId"], "abc");

    // Constraint fails: defaults are emitted, not omitted.
    let (_, body) = post_json(
        &srv.url("/evaluate/v1/variant"),
        json!({"flagKey": "foo", "entityId": "1", "context": {"bar": "boz"}}),
    )
    .await;
    assert_eq!(body["match"], false);
    assert_eq!(body["segmentKeys"], json!([]));
    assert_eq!(body["variantKey"], "");
    assert_eq!(body["variantAttachment"], "");
    assert_eq!(body["reason"], "UNKNOWN_EVALUATION_REASON");
}

#[tokio::test]
async fn boolean_response_has_flipt_shape() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let (status, body) = post_json(
        &srv.url("/evaluate/v1/boolean"),
        json!({"flagKey": "test-flag", "entityId": "test-entity"}),
    )
    .await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "enabled",
            "reason",
            "requestId",
            "requestDurationMillis",
            "timestamp",
            "flagKey",
            "segmentKeys"
        ]
    );
    assert_eq!(body["enabled"], false);
    assert_eq!(body["reason"], "MATCH_EVALUATION_REASON");
    assert_eq!(body["segmentKeys"], json!([]));

    // Another namespace, picked by the X-Flipt-Namespace header when the body has none.
    let res = client()
        .post(srv.url("/evaluate/v1/boolean"))
        .header("x-flipt-namespace", "team-a")
        .body(r#"{"flagKey":"solo","entityId":"e"}"#)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["enabled"], true);
    assert_eq!(body["reason"], "DEFAULT_EVALUATION_REASON");
}

#[tokio::test]
async fn requests_are_decoded_leniently() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let url = srv.url("/evaluate/v1/variant");
    // snake_case, as the Python SDK sends, with nulls and unknown fields.
    let snake = r#"{"request_id": null, "namespace_key": "default", "flag_key": "foo", "entity_id": "1",
                    "context": {"bar": "baz"}, "reference": null, "unknown_field": [1, 2]}"#;
    let (status, body) = post(&url, snake, "application/json").await;
    assert_eq!(
        (status, body["variantKey"].as_str()),
        (200, Some("boz")),
        "{body}"
    );
    // text/plain, as the Node SDK sends; trailing slash trimmed.
    let camel = r#"{"flagKey":"foo","entityId":"2","context":{"bar":"baz"}}"#;
    let (status, body) = post(
        &srv.url("/evaluate/v1/variant/"),
        camel,
        "text/plain;charset=UTF-8",
    )
    .await;
    assert_eq!(
        (status, body["variantKey"].as_str()),
        (200, Some("booz")),
        "{body}"
    );
    // No content type at all, null context.
    let res = client()
        .post(&url)
        .body(r#"{"flagKey":"foo","entityId":"2","context":null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["match"], false);
}

#[tokio::test]
async fn errors_have_flipt_status_shape() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let variant = srv.url("/evaluate/v1/variant");
    let boolean = srv.url("/evaluate/v1/boolean");

    let (s, b) = post_json(&variant, json!({"flagKey": "nope", "entityId": "1"})).await;
    assert_eq!(
        (s, b),
        (
            404,
            json!({"code": 5, "message": "flag \"default/nope\" not found", "details": []})
        )
    );
    let (s, b) = post_json(&boolean, json!({"namespaceKey": "ghost", "flagKey": "x"})).await;
    assert_eq!(
        (s, b),
        (
            404,
            json!({"code": 5, "message": "namespace \"ghost\" not found", "details": []})
        )
    );
    let (s, b) = post_json(&variant, json!({"flagKey": "test-flag", "entityId": "1"})).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"code": 3, "message": "flag type BOOLEAN_FLAG_TYPE invalid", "details": []})
        )
    );
    let (s, b) = post_json(&boolean, json!({"flagKey": "foo", "entityId": "1"})).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"code": 3, "message": "flag type VARIANT_FLAG_TYPE invalid", "details": []})
        )
    );

    // Malformed and mistyped bodies: 400 InvalidArgument.
    for bad in [
        r#"{"flagKey": "foo""#,
        "not json",
        r#"{"flagKey": 5}"#,
        r#"{"context": {"a": 1}}"#,
        "[]",
    ] {
        let (s, b) = post(&variant, bad, "application/json").await;
        assert_eq!(s, 400, "{bad}: {b}");
        assert_eq!(b["code"], 3);
        assert_eq!(b["details"], json!([]));
        assert_eq!(b.as_object().unwrap().len(), 3, "{b}");
    }
    // An empty body is an empty request, as in grpc-gateway.
    let (s, b) = post(&variant, "", "application/json").await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some("flag \"default/\" not found"))
    );

    // A huge body: 413 with a status body, and the server stays up.
    let huge = format!(
        r#"{{"flagKey":"foo","entityId":"{}"}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    let (s, b) = post(&variant, huge, "application/json").await;
    assert_eq!((s, b["code"].as_i64()), (413, Some(8)), "{b}");

    // Unknown routes and methods.
    let res = client()
        .get(srv.url("/evaluate/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b, json!({"code": 5, "message": "Not Found", "details": []}));
    let res = client().get(&variant).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405);

    let (s, _) = post_json(&boolean, json!({"flagKey": "test-flag", "entityId": "x"})).await;
    assert_eq!(s, 200, "still serving after bad requests");
}

#[tokio::test]
async fn batch_mixes_types_and_not_found_items() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let (s, body) = post_json(
        &srv.url("/evaluate/v1/batch"),
        json!({"requests": [
            {"flagKey": "test-flag", "entityId": "test-entity", "requestId": "r1"},
            {"flagKey": "foo", "entityId": "1", "context": {"bar": "baz"}},
            {"flagKey": "missing", "entityId": "1"},
            {"namespaceKey": "ghost", "flagKey": "x"},
            {"namespace_key": "team-a", "flag_key": "solo"}
        ]}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["requestId", "responses", "requestDurationMillis"]);
    assert!(is_uuid(body["requestId"].as_str().unwrap()));
    let r = body["responses"].as_array().unwrap();
    assert_eq!(r.len(), 5);
    assert_eq!(r[0]["type"], "BOOLEAN_EVALUATION_RESPONSE_TYPE");
    assert_eq!(r[0]["booleanResponse"]["enabled"], false);
    assert_eq!(r[0]["booleanResponse"]["requestId"], "r1");
    assert_eq!(r[1]["type"], "VARIANT_EVALUATION_RESPONSE_TYPE");
    assert_eq!(r[1]["variantResponse"]["variantKey"], "boz");
    assert_eq!(r[1]["variantResponse"]["requestId"], "");
    assert_eq!(
        r[1]["variantResponse"]["timestamp"],
        r[0]["booleanResponse"]["timestamp"]
    );
    assert_eq!(
        r[2],
        json!({"type": "ERROR_EVALUATION_RESPONSE_TYPE",
               "errorResponse": {"flagKey": "missing", "namespaceKey": "default", "reason": "NOT_FOUND_ERROR_EVALUATION_REASON"}})
    );
    assert_eq!(r[3]["errorResponse"]["namespaceKey"], "ghost");
    assert_eq!(r[4]["booleanResponse"]["enabled"], true);
}

#[tokio::test]
async fn health_and_meta() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let res = client().get(srv.url("/health")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let health: Value = res.json().await.unwrap();
    assert_eq!(health["status"], "SERVING");
    let src = &health["detail"]["sources"][0];
    assert_eq!(src["type"], "local");
    assert_eq!(src["degraded"], false);
    assert_eq!(src["flags"], 3);
    assert_eq!(src["namespaces"], 2);
    let revision = src["revision"].as_str().unwrap();
    assert_eq!(revision.len(), 40);
    let info: Value = client()
        .get(srv.url("/meta/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["storage"]["type"], "local");
    assert_eq!(info["storage"]["readOnly"], true);
    assert_eq!(info["storage"]["revision"], revision);
    assert_eq!(info["authentication"], json!({"required": false}));
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn metrics_expose_the_served_revision() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let res = client().get(srv.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    let health: Value = client()
        .get(srv.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let revision = health["detail"]["sources"][0]["revision"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains(&format!("revision=\"{revision}\"}} 1")),
        "{text}"
    );
    assert!(
        text.contains("# TYPE guidon_source_polls_total counter"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("guidon_flags{type=\"local\"") && l.ends_with(" 3")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("guidon_source_degraded{") && l.ends_with(" 0")),
        "{text}"
    );
}

#[tokio::test]
async fn legacy_evaluate_api() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let (s, b) = post_json(
        &srv.url("/api/v1/evaluate"),
        json!({"flagKey": "foo", "entityId": "1", "context": {"bar": "baz"}, "requestId": "r-1"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "requestId",
            "entityId",
            "requestContext",
            "match",
            "flagKey",
            "segmentKey",
            "timestamp",
            "value",
            "requestDurationMillis",
            "attachment",
            "reason",
            "namespaceKey",
            "segmentKeys"
        ]
    );
    assert_eq!(b["requestId"], "r-1");
    assert_eq!(b["requestContext"], json!({"bar": "baz"}));
    assert_eq!(
        (b["match"].as_bool(), b["value"].as_str()),
        (Some(true), Some("boz"))
    );
    assert_eq!(b["segmentKey"], "bar");
    assert_eq!(b["reason"], "MATCH_EVALUATION_REASON");
    assert_eq!(b["namespaceKey"], "default");

    // Namespaced path; the path wins over the body.
    let (s, b) = post_json(
        &srv.url("/api/v1/namespaces/default/evaluate"),
        json!({"flagKey": "foo", "entityId": "2", "namespaceKey": "team-a", "context": {"bar": "baz"}}),
    )
    .await;
    assert_eq!((s, b["value"].as_str()), (200, Some("booz")), "{b}");

    // Validation and errors as Flipt v1 reports them.
    let (s, b) = post_json(&srv.url("/api/v1/evaluate"), json!({"flagKey": "foo"})).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (400, Some("invalid field entityId: must not be empty"))
    );
    let (s, b) = post_json(&srv.url("/api/v1/evaluate"), json!({"entityId": "1"})).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (400, Some("invalid field flagKey: must not be empty"))
    );
    let (s, b) = post_json(
        &srv.url("/api/v1/evaluate"),
        json!({"flagKey": "test-flag", "entityId": "1"}),
    )
    .await;
    assert_eq!(
        (s, b["message"].as_str()),
        (400, Some("flag type BOOLEAN_FLAG_TYPE invalid"))
    );
    let (s, _) = post_json(
        &srv.url("/api/v1/evaluate"),
        json!({"flagKey": "nope", "entityId": "1"}),
    )
    .await;
    assert_eq!(s, 404);

    // Batch: not found is an error unless excluded; inner ids cleared.
    let body = json!({"requests": [
        {"flagKey": "foo", "entityId": "1", "context": {"bar": "baz"}, "requestId": "inner"},
        {"flagKey": "nope", "entityId": "1"}
    ]});
    let (s, _) = post_json(&srv.url("/api/v1/batch-evaluate"), body.clone()).await;
    assert_eq!(s, 404);
    let mut excluded = body.clone();
    excluded["excludeNotFound"] = json!(true);
    let (s, b) = post_json(&srv.url("/api/v1/batch-evaluate"), excluded).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["responses"].as_array().unwrap().len(), 1);
    assert_eq!(b["responses"][0]["requestId"], "");
    assert_eq!(b["responses"][0]["requestDurationMillis"], 0.0);
    assert_eq!(b["responses"][0]["value"], "boz");
    assert!(b["requestId"].as_str().unwrap().len() == 36);
    let (s, b) = post_json(
        &srv.url("/api/v1/namespaces/default/batch-evaluate"),
        json!({"requests": [{"flagKey": "foo", "entityId": "1", "namespaceKey": "team-a"}]}),
    )
    .await;
    assert_eq!(
        (s, b["message"].as_str()),
        (
            400,
            Some("invalid field namespace_key: must be the same for all requests if specified")
        )
    );
}

#[tokio::test]
async fn management_reads_and_read_only_writes() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let get = |path: &str| {
        let url = srv.url(path);
        async move {
            let res = client().get(url).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (s, b) = get("/api/v1/namespaces").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["totalCount"], 2);
    assert_eq!(b["nextPageToken"], "");
    assert_eq!(b["namespaces"][0]["key"], "default");
    assert_eq!(b["namespaces"][0]["protected"], true);

    // Pagination: limit + pageToken; empty query values as the Go SDK sends them.
    let (_, b) = get("/api/v1/namespaces/default/flags?limit=1&pageToken=&offset=").await;
    assert_eq!(
        (b["totalCount"].as_u64(), b["nextPageToken"].as_str()),
        (Some(2), Some("1"))
    );
    assert_eq!(b["flags"][0]["key"], "foo");
    let (_, b) = get("/api/v1/flags?limit=1&page_token=1").await;
    assert_eq!(b["flags"][0]["key"], "test-flag");
    assert_eq!(b["nextPageToken"], "");
    let (s, b) = get("/api/v1/flags?pageToken=zzz").await;
    assert_eq!(
        (s, b["message"].as_str()),
        (400, Some("pageToken is not valid: \"zzz\""))
    );

    let (s, f) = get("/api/v1/namespaces/default/flags/foo").await;
    assert_eq!(s, 200);
    let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "key",
            "name",
            "description",
            "enabled",
            "createdAt",
            "updatedAt",
            "variants",
            "namespaceKey",
            "type"
        ]
    );
    assert_eq!(f["variants"][0]["key"], "boz");
    assert_eq!(
        f["variants"][0]["attachment"],
        r#"{"a":"\u003c1\u003e","b":2}"#
    );
    assert_eq!(f["type"], "VARIANT_FLAG_TYPE");
    let (s, b) = get("/api/v1/flags/nope").await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some("flag \"default/nope\" not found"))
    );
    let (s, b) = get("/api/v1/namespaces/ghost/flags").await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some("namespace \"ghost\" not found"))
    );

    let (_, seg) = get("/api/v1/segments/bar").await;
    assert_eq!(seg["matchType"], "ALL_MATCH_TYPE");
    assert_eq!(seg["constraints"][0]["type"], "STRING_COMPARISON_TYPE");
    assert_eq!(seg["constraints"][0]["value"], "baz");

    // Rules and rollouts (Flipt's RolloutList names its field `rules`).
    let (s, b) = get("/api/v1/namespaces/default/flags/foo/rules").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["totalCount"], 1);
    let rule = &b["rules"][0];
    assert_eq!(
        (rule["rank"].as_u64(), rule["segmentKey"].as_str()),
        (Some(1), Some("bar"))
    );
    assert_eq!(rule["segmentKeys"], json!(["bar"]));
    assert_eq!(rule["distributions"][1]["rollout"], 50.0);
    let id = rule["id"].as_str().unwrap().to_owned();
    let (s, one) = get(&format!("/api/v1/flags/foo/rules/{id}")).await;
    assert_eq!((s, &one), (200, rule));
    let (s, b) = get("/api/v1/namespaces/default/flags/test-flag/rollouts").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rules"][0]["type"], "THRESHOLD_ROLLOUT_TYPE");
    assert_eq!(
        b["rules"][0]["threshold"],
        json!({"percentage": 70.0, "value": false})
    );
    let (s, _) = get("/api/v1/namespaces/default/flags/test-flag/rollouts/rollout-9").await;
    assert_eq!(s, 404);

    // Every write answers as read-only Flipt does.
    let c = client();
    for (method, path) in [
        ("POST", "/api/v1/namespaces"),
        ("PUT", "/api/v1/namespaces/default"),
        ("DELETE", "/api/v1/namespaces/team-a"),
        ("POST", "/api/v1/namespaces/default/flags"),
        ("PUT", "/api/v1/flags/foo"),
        ("DELETE", "/api/v1/namespaces/default/flags/foo"),
        ("POST", "/api/v1/flags/foo/variants"),
        ("PUT", "/api/v1/namespaces/default/flags/foo/rules/order"),
        ("DELETE", "/api/v1/flags/foo/rules/r1/distributions/d1"),
        (
            "POST",
            "/api/v1/namespaces/default/flags/test-flag/rollouts",
        ),
        ("POST", "/api/v1/segments/bar/constraints"),
    ] {
        let res = c
            .request(method.parse().unwrap(), srv.url(path))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 500, "{method} {path}");
        let b: Value = res.json().await.unwrap();
        assert_eq!(
            b,
            json!({"code": 13, "message": "modification is not allowed in read-only mode", "details": []})
        );
    }
}

#[tokio::test]
async fn ofrep_single_bulk_and_configuration() {
    let dir = flag_dir(FLAGS);
    let srv = Server::start(dir.path(), &[]);
    let c = client();
    let post_ofrep = |path: &str, body: Value, ns: Option<&str>, inm: Option<&str>| {
        let mut req = c.post(srv.url(path)).body(body.to_string());
        if let Some(ns) = ns {
            req = req.header("X-Flipt-Namespace", ns);
        }
        if let Some(tag) = inm {
            req = req.header("If-None-Match", tag);
        }
        req.send()
    };
    let res = post_ofrep(
        "/ofrep/v1/evaluate/flags/foo",
        json!({"context": {"targetingKey": "1", "bar": "baz"}}),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let b: Value = res.json().await.unwrap();
    assert_eq!(
        b,
        json!({"key": "foo", "reason": "TARGETING_MATCH", "variant": "boz",
               "metadata": {"segments": "bar", "attachment": r#"{"a":"\u003c1\u003e","b":2}"#}, "value": "boz"})
    );
    let b: Value = post_ofrep(
        "/ofrep/v1/evaluate/flags/test-flag",
        json!({"context": {"targetingKey": "test-entity"}}),
        None,
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        b,
        json!({"key": "test-flag", "reason": "TARGETING_MATCH", "variant": "false", "metadata": {}, "value": false})
    );
    let b: Value = post_ofrep(
        "/ofrep/v1/evaluate/flags/solo",
        json!({"context": {}}),
        Some("team-a"),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        (b["value"].as_bool(), b["reason"].as_str()),
        (Some(true), Some("DEFAULT"))
    );

    // Errors in OFREP's shape.
    let res = post_ofrep(
        "/ofrep/v1/evaluate/flags/nope",
        json!({"context": {}}),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag was not found nope"})
    );
    let res = post_ofrep(
        "/ofrep/v1/evaluate/flags/foo",
        json!({"context": {"n": 5}}),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errorCode"],
        "INVALID_CONTEXT"
    );

    // Bulk: every boolean flag and enabled variant flag, an ETag, and 304.
    let res = post_ofrep(
        "/ofrep/v1/evaluate/flags",
        json!({"context": {"targetingKey": "1", "bar": "baz"}}),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let b: Value = res.json().await.unwrap();
    let keys: Vec<&str> = b["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["foo", "test-flag"]);
    let res = post_ofrep(
        "/ofrep/v1/evaluate/flags",
        json!({"context": {"targetingKey": "1", "bar": "baz"}}),
        None,
        Some(&etag),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 304);
    let b: Value = post_ofrep(
        "/ofrep/v1/evaluate/flags",
        json!({"context": {"targetingKey": "1", "flags": " test-flag "}}),
        None,
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(b["flags"].as_array().unwrap().len(), 1);

    let cfg: Value = c
        .get(srv.url("/ofrep/v1/configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["name"], "flipt");
    assert_eq!(
        cfg["capabilities"]["flagEvaluation"]["supportedTypes"],
        json!(["string", "boolean"])
    );
}
