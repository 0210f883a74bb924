//! `POST /evaluate/v1/{boolean,variant,batch}`: Flipt's evaluation API (spec §3.3).
//!
//! Requests are decoded the way grpc-gateway decodes them: camelCase or snake_case
//! field names, `null` meaning "unset", unknown fields ignored, an empty body
//! meaning an empty request, and any `Content-Type` (the Node SDK sends
//! `text/plain`). When `namespaceKey` is blank, the `X-Flipt-Namespace` header
//! fills it, as Flipt v2 does. Responses carry every field with its default value,
//! camelCase names in proto field order, enums as names, the request id echoed or
//! a fresh UUID, an RFC 3339 timestamp and a float duration in milliseconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use guidon_core::{AnyResult, BooleanResult, EvalRequest, SegmentKeys, VariantResult};
use guidon_source::SnapshotStore;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ApiError;

/// The evaluation routes, for any state that can hand out the snapshot store.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<SnapshotStore>: FromRef<S>,
{
    Router::new()
        .route("/evaluate/v1/boolean", post(boolean))
        .route("/evaluate/v1/variant", post(variant))
        .route("/evaluate/v1/batch", post(batch))
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn context_map<'de, D>(d: D) -> Result<HashMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: Option<HashMap<String, Option<String>>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// `flipt.evaluation.EvaluationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EvaluationRequest {
    /// Echoed in the response; generated when empty.
    #[serde(alias = "request_id", deserialize_with = "null_default")]
    pub request_id: String,
    /// Namespace key; empty means `default`.
    #[serde(alias = "namespace_key", deserialize_with = "null_default")]
    pub namespace_key: String,
    /// Flag key.
    #[serde(alias = "flag_key", deserialize_with = "null_default")]
    pub flag_key: String,
    /// Entity id.
    #[serde(alias = "entity_id", deserialize_with = "null_default")]
    pub entity_id: String,
    /// Context.
    #[serde(deserialize_with = "context_map")]
    pub context: HashMap<String, String>,
    /// Storage reference (ignored by declarative local storage).
    #[serde(deserialize_with = "null_default")]
    pub reference: String,
    /// Flipt v2 environment key.
    #[serde(alias = "environment_key", deserialize_with = "null_default")]
    pub environment_key: String,
}

/// `flipt.evaluation.BatchEvaluationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BatchEvaluationRequest {
    /// Echoed in the response; generated when empty.
    #[serde(alias = "request_id", deserialize_with = "null_default")]
    pub request_id: String,
    /// The evaluations.
    #[serde(deserialize_with = "null_default")]
    pub requests: Vec<EvaluationRequest>,
    /// Storage reference (ignored by declarative local storage).
    #[serde(deserialize_with = "null_default")]
    pub reference: String,
}

fn decode<'a, T: Deserialize<'a> + Default>(body: &'a [u8]) -> Result<T, ApiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Ok(T::default()),
        Some(b'{') => {}
        Some(&c) => {
            return Err(ApiError::invalid(format!(
                "syntax error: expected a JSON object, found {:?}",
                char::from(c)
            )));
        }
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(e.to_string()))
}

struct Keys<'a>(&'a SegmentKeys<'a>);

impl Serialize for Keys<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantResponse<'a> {
    #[serde(rename = "match")]
    matched: bool,
    segment_keys: Keys<'a>,
    reason: &'static str,
    variant_key: &'a str,
    variant_attachment: &'a str,
    request_id: &'a str,
    request_duration_millis: f64,
    timestamp: &'a str,
    flag_key: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BooleanResponse<'a> {
    enabled: bool,
    reason: &'static str,
    request_id: &'a str,
    request_duration_millis: f64,
    timestamp: &'a str,
    flag_key: &'a str,
    segment_keys: Keys<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorResponse<'a> {
    flag_key: &'a str,
    namespace_key: &'a str,
    reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchItem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    boolean_response: Option<BooleanResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant_response: Option<VariantResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_response: Option<ErrorResponse<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchResponse<'a> {
    request_id: &'a str,
    responses: Vec<BatchItem<'a>>,
    request_duration_millis: f64,
}

/// Time the evaluation finished, and how long it took.
struct Finish {
    timestamp: String,
    millis: f64,
}

impl Finish {
    fn since(start: Instant) -> Self {
        let millis = start.elapsed().as_nanos() as f64 / 1e6;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        // Flipt rounds server timestamps to microseconds.
        let micros = now.subsec_micros() * 1000;
        Self {
            timestamp: guidon_core::goparse::format_rfc3339(now.as_secs() as i64, micros),
            millis,
        }
    }
}

fn request_id(given: &str) -> String {
    if given.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        given.to_owned()
    }
}

pub(crate) fn json(body: Vec<u8>) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

fn to_json<T: Serialize>(v: &T) -> Result<Response, ApiError> {
    serde_json::to_vec(v).map(json).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            crate::error::Code::Internal,
            e.to_string(),
        )
    })
}

fn fill_namespace(req: &mut EvaluationRequest, headers: &HeaderMap) {
    if req.namespace_key.is_empty()
        && let Some(ns) = headers
            .get("x-flipt-namespace")
            .and_then(|v| v.to_str().ok())
    {
        req.namespace_key = ns.to_owned();
    }
}

fn eval_req(r: &EvaluationRequest) -> EvalRequest<'_, HashMap<String, String>> {
    EvalRequest {
        namespace: &r.namespace_key,
        flag: &r.flag_key,
        entity_id: &r.entity_id,
        context: &r.context,
    }
}

fn variant_body<'a>(
    r: &'a VariantResult<'a>,
    keys: &'a SegmentKeys<'a>,
    request_id: &'a str,
    fin: &'a Finish,
) -> VariantResponse<'a> {
    VariantResponse {
        matched: r.matched,
        segment_keys: Keys(keys),
        reason: r.reason.as_str(),
        variant_key: r.variant_key,
        variant_attachment: r.variant_attachment,
        request_id,
        request_duration_millis: fin.millis,
        timestamp: &fin.timestamp,
        flag_key: &r.flag.key,
    }
}

fn boolean_body<'a>(
    r: &'a BooleanResult<'a>,
    keys: &'a SegmentKeys<'a>,
    request_id: &'a str,
    fin: &'a Finish,
) -> BooleanResponse<'a> {
    BooleanResponse {
        enabled: r.enabled,
        reason: r.reason.as_str(),
        request_id,
        request_duration_millis: fin.millis,
        timestamp: &fin.timestamp,
        flag_key: &r.flag.key,
        segment_keys: Keys(keys),
    }
}

async fn variant(
    State(store): State<Arc<SnapshotStore>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    let mut req: EvaluationRequest = decode(&body?)?;
    fill_namespace(&mut req, &headers);
    let published = store.load();
    let res = published.snapshot.variant(&eval_req(&req))?;
    let id = request_id(&req.request_id);
    let fin = Finish::since(start);
    to_json(&variant_body(&res, &res.segment_keys, &id, &fin))
}

async fn boolean(
    State(store): State<Arc<SnapshotStore>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    let mut req: EvaluationRequest = decode(&body?)?;
    fill_namespace(&mut req, &headers);
    let published = store.load();
    let res = published.snapshot.boolean(&eval_req(&req))?;
    let id = request_id(&req.request_id);
    let fin = Finish::since(start);
    to_json(&boolean_body(&res, &res.segment_keys, &id, &fin))
}

async fn batch(
    State(store): State<Arc<SnapshotStore>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    let mut batch: BatchEvaluationRequest = decode(&body?)?;
    for r in &mut batch.requests {
        fill_namespace(r, &headers);
    }
    let published = store.load();
    let results: Vec<_> = batch
        .requests
        .iter()
        .map(|r| published.snapshot.evaluate(&eval_req(r)))
        .collect::<Vec<_>>();
    // Not-found items become error items; nothing else can fail per item.
    let id = request_id(&batch.request_id);
    let fin = Finish::since(start);
    let responses = batch
        .requests
        .iter()
        .zip(&results)
        .map(|(r, res)| match res {
            Ok(AnyResult::Variant(v)) => BatchItem {
                kind: "VARIANT_EVALUATION_RESPONSE_TYPE",
                boolean_response: None,
                variant_response: Some(variant_body(v, &v.segment_keys, &r.request_id, &fin)),
                error_response: None,
            },
            Ok(AnyResult::Boolean(b)) => BatchItem {
                kind: "BOOLEAN_EVALUATION_RESPONSE_TYPE",
                boolean_response: Some(boolean_body(b, &b.segment_keys, &r.request_id, &fin)),
                variant_response: None,
                error_response: None,
            },
            Err(e) => BatchItem {
                kind: "ERROR_EVALUATION_RESPONSE_TYPE",
                boolean_response: None,
                variant_response: None,
                error_response: Some(ErrorResponse {
                    flag_key: &r.flag_key,
                    namespace_key: if r.namespace_key.is_empty() {
                        "default"
                    } else {
                        &r.namespace_key
                    },
                    reason: if e.is_not_found() {
                        "NOT_FOUND_ERROR_EVALUATION_REASON"
                    } else {
                        "UNKNOWN_ERROR_EVALUATION_REASON"
                    },
                }),
            },
        })
        .collect();
    to_json(&BatchResponse {
        request_id: &id,
        responses,
        request_duration_millis: fin.millis,
    })
}
