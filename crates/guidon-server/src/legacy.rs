//! Flipt v1's legacy evaluation API (spec §3.4), still used by old Go, Node and
//! Ruby clients: `POST /api/v1/evaluate`, `/api/v1/batch-evaluate` and their
//! `/api/v1/namespaces/{namespace_key}/...` forms. Variant flags only.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, Path, State};
use axum::response::Response;
use axum::routing::post;
use guidon_core::{EvalError, Snapshot};
use guidon_source::SnapshotStore;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::evaluate::{ContextMap, Finish, Keys, List, Text, decode, json, request_id, to_json};

/// The legacy evaluation routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<SnapshotStore>: FromRef<S>,
{
    Router::new()
        .route("/api/v1/evaluate", post(evaluate))
        .route("/api/v1/namespaces/{ns}/evaluate", post(evaluate_in))
        .route("/api/v1/batch-evaluate", post(batch))
        .route("/api/v1/namespaces/{ns}/batch-evaluate", post(batch_in))
}

/// `flipt.EvaluationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LegacyRequest<'a> {
    #[serde(borrow, alias = "request_id")]
    request_id: Text<'a>,
    #[serde(borrow, alias = "flag_key")]
    flag_key: Text<'a>,
    #[serde(borrow, alias = "entity_id")]
    entity_id: Text<'a>,
    #[serde(borrow)]
    context: ContextMap<'a>,
    #[serde(borrow, alias = "namespace_key")]
    namespace_key: Text<'a>,
}

/// `flipt.BatchEvaluationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LegacyBatch<'a> {
    #[serde(borrow, alias = "request_id")]
    request_id: Text<'a>,
    #[serde(borrow)]
    requests: List<LegacyRequest<'a>>,
    #[serde(alias = "exclude_not_found")]
    exclude_not_found: Option<bool>,
    #[serde(borrow, alias = "namespace_key")]
    namespace_key: Text<'a>,
}

struct ContextJson<'a>(&'a ContextMap<'a>);

impl Serialize for ContextJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.0.iter().map(|(k, v)| (&**k, &**v)))
    }
}

/// `flipt.EvaluationResponse`, fields in proto order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LegacyResponse<'a> {
    request_id: &'a str,
    entity_id: &'a str,
    request_context: ContextJson<'a>,
    #[serde(rename = "match")]
    matched: bool,
    flag_key: &'a str,
    segment_key: &'a str,
    timestamp: &'a str,
    value: &'a str,
    request_duration_millis: f64,
    attachment: &'a str,
    reason: &'static str,
    namespace_key: &'a str,
    segment_keys: Keys<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LegacyBatchResponse<'a> {
    request_id: &'a str,
    responses: Vec<LegacyResponse<'a>>,
    request_duration_millis: f64,
}

fn validate(r: &LegacyRequest<'_>) -> Result<(), ApiError> {
    if r.flag_key.is_empty() {
        return Err(ApiError::invalid(
            "invalid field flagKey: must not be empty",
        ));
    }
    if r.entity_id.is_empty() {
        return Err(ApiError::invalid(
            "invalid field entityId: must not be empty",
        ));
    }
    Ok(())
}

fn namespace<'a>(path: Option<&'a str>, body: &'a str) -> &'a str {
    match path.filter(|p| !p.is_empty()) {
        Some(p) => p,
        None if body.is_empty() => "default",
        None => body,
    }
}

/// Answers a legacy `/api/v1/evaluate` body; `path_ns` is the namespace from
/// the path, which wins over the body's.
pub fn evaluate_json(
    snapshot: &Snapshot,
    body: &[u8],
    path_ns: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    let start = Instant::now();
    let req: LegacyRequest<'_> = decode(body)?;
    validate(&req)?;
    let ns = namespace(path_ns, &req.namespace_key);
    let ereq = guidon_core::EvalRequest {
        namespace: ns,
        flag: &req.flag_key,
        entity_id: &req.entity_id,
        context: &req.context,
    };
    let res = snapshot.variant(&ereq)?;
    let mut buf = [0u8; 36];
    let id = request_id(&req.request_id, &mut buf);
    let fin = Finish::since(start);
    to_json(&LegacyResponse {
        request_id: id,
        entity_id: &req.entity_id,
        request_context: ContextJson(&req.context),
        matched: res.matched,
        flag_key: &res.flag.key,
        segment_key: res.segment_keys.iter().next().unwrap_or(""),
        timestamp: &fin.timestamp,
        value: res.variant_key,
        request_duration_millis: fin.millis,
        attachment: res.variant_attachment,
        reason: res.reason.as_str(),
        namespace_key: ns,
        segment_keys: Keys(&res.segment_keys),
    })
}

/// Answers a legacy `/api/v1/batch-evaluate` body.
pub fn batch_json(
    snapshot: &Snapshot,
    body: &[u8],
    path_ns: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    let start = Instant::now();
    let batch: LegacyBatch<'_> = decode(body)?;
    let ns = namespace(path_ns, &batch.namespace_key);
    let explicit = path_ns
        .filter(|p| !p.is_empty())
        .or(Some(&*batch.namespace_key).filter(|n| !n.is_empty()));
    for r in &batch.requests.0 {
        validate(r)?;
        if !r.namespace_key.is_empty() && explicit.is_some_and(|e| e != &*r.namespace_key) {
            return Err(ApiError::invalid(
                "invalid field namespace_key: must be the same for all requests if specified",
            ));
        }
    }
    let mut results = Vec::with_capacity(batch.requests.0.len());
    for r in &batch.requests.0 {
        let item_ns = if r.namespace_key.is_empty() {
            ns
        } else {
            &*r.namespace_key
        };
        let ereq = guidon_core::EvalRequest {
            namespace: item_ns,
            flag: &r.flag_key,
            entity_id: &r.entity_id,
            context: &r.context,
        };
        match snapshot.variant(&ereq) {
            Ok(res) => results.push((r, item_ns, res)),
            Err(EvalError::FlagNotFound { .. } | EvalError::NamespaceNotFound(_))
                if batch.exclude_not_found == Some(true) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut buf = [0u8; 36];
    let id = request_id(&batch.request_id, &mut buf);
    let fin = Finish::since(start);
    let responses = results
        .iter()
        .map(|(r, item_ns, res)| LegacyResponse {
            request_id: "",
            entity_id: &r.entity_id,
            request_context: ContextJson(&r.context),
            matched: res.matched,
            flag_key: &res.flag.key,
            segment_key: res.segment_keys.iter().next().unwrap_or(""),
            timestamp: &fin.timestamp,
            value: res.variant_key,
            request_duration_millis: 0.0,
            attachment: res.variant_attachment,
            reason: res.reason.as_str(),
            namespace_key: item_ns,
            segment_keys: Keys(&res.segment_keys),
        })
        .collect();
    to_json(&LegacyBatchResponse {
        request_id: id,
        responses,
        request_duration_millis: fin.millis,
    })
}

async fn evaluate(
    State(store): State<Arc<SnapshotStore>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    evaluate_json(&store.load().snapshot, &body?, None).map(json)
}

async fn evaluate_in(
    State(store): State<Arc<SnapshotStore>>,
    Path(ns): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    evaluate_json(&store.load().snapshot, &body?, Some(&ns)).map(json)
}

async fn batch(
    State(store): State<Arc<SnapshotStore>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    batch_json(&store.load().snapshot, &body?, None).map(json)
}

async fn batch_in(
    State(store): State<Arc<SnapshotStore>>,
    Path(ns): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    batch_json(&store.load().snapshot, &body?, Some(&ns)).map(json)
}
