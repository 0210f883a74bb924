//! Client-side snapshots (spec §3.6): the document Flipt's client-side SDKs
//! (`flipt-client-*`) download and evaluate in-process.
//!
//! - `GET /internal/v1/evaluation/snapshot/namespace/{key}` (Flipt v1), gated by
//!   `X-Flipt-Accept-Server-Version` as v1 gates it: below 1.47.0 no
//!   `defaultVariant`; below 1.38.0, or without the header (read as 1.37.1),
//!   ENTITY_ID constraints are sent as `UNKNOWN_CONSTRAINT_COMPARISON_TYPE`.
//! - `GET /client/v2/environments/{env}/namespaces/{key}/snapshot` (Flipt v2):
//!   always everything, plus `digest`.
//!
//! Each body is serialised once per snapshot revision, namespace and gate, and
//! carries a strong `ETag` (SHA-1 of the body); `If-None-Match` with that value
//! answers `304 Not Modified` with no body.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use guidon_core::Namespace;
use guidon_core::model::{ComparisonType, RolloutKind, SegmentRef};
use guidon_source::{Published, SnapshotStore};
use serde::Serialize;

use crate::error::ApiError;

/// What a client may receive, from its `X-Flipt-Accept-Server-Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// ≥ 1.47.0, or the v2 path: everything.
    Full,
    /// 1.38.0 to 1.46.x: no `defaultVariant`.
    NoDefaultVariant,
    /// Below 1.38.0 or no header: also no ENTITY_ID constraint type.
    Legacy,
}

impl Gate {
    /// The gate for a header value (absent means 1.37.1, as in Flipt v1).
    pub fn from_header(value: Option<&str>) -> Self {
        let version = value
            .and_then(|v| {
                let mut parts = v.trim().trim_start_matches('v').split('.');
                let mut next = || {
                    parts
                        .next()
                        .and_then(|p| p.split('-').next()?.parse::<u64>().ok())
                };
                Some((next()?, next().unwrap_or(0), next().unwrap_or(0)))
            })
            .unwrap_or((1, 37, 1));
        if version >= (1, 47, 0) {
            Self::Full
        } else if version >= (1, 38, 0) {
            Self::NoDefaultVariant
        } else {
            Self::Legacy
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    namespace: NamespaceKey<'a>,
    flags: Vec<FlagDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<&'a str>,
}

#[derive(Serialize)]
struct NamespaceKey<'a> {
    key: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagDoc<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    enabled: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    created_at: &'a str,
    updated_at: &'a str,
    rules: Vec<RuleDoc<'a>>,
    rollouts: Vec<RolloutDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_variant: Option<VariantDoc<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDoc<'a> {
    id: String,
    segments: Vec<SegmentDoc<'a>>,
    rank: u32,
    segment_operator: &'static str,
    distributions: Vec<DistributionDoc<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SegmentDoc<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    match_type: &'static str,
    constraints: Vec<ConstraintDoc<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConstraintDoc<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    property: &'a str,
    operator: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DistributionDoc<'a> {
    id: String,
    rule_id: String,
    variant_id: String,
    variant_key: &'a str,
    variant_attachment: &'a str,
    rollout: f32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolloutDoc<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    rank: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    segment: Option<RolloutSegmentDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<ThresholdDoc>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolloutSegmentDoc<'a> {
    value: bool,
    segment_operator: &'static str,
    segments: Vec<SegmentDoc<'a>>,
}

#[derive(Serialize)]
struct ThresholdDoc {
    percentage: f32,
    value: bool,
}

#[derive(Serialize)]
struct VariantDoc<'a> {
    id: String,
    key: &'a str,
    attachment: &'a str,
}

fn segment_doc<'a>(ns: &'a Namespace, r: SegmentRef, gate: Gate) -> SegmentDoc<'a> {
    let seg = ns.segment_at(r);
    SegmentDoc {
        key: &seg.key,
        name: &seg.name,
        description: &seg.description,
        match_type: match seg.match_type {
            guidon_core::model::MatchType::All => "ALL_SEGMENT_MATCH_TYPE",
            guidon_core::model::MatchType::Any => "ANY_SEGMENT_MATCH_TYPE",
        },
        constraints: seg
            .constraints
            .iter()
            .enumerate()
            .map(|(i, c)| ConstraintDoc {
                id: format!("{}/{}", seg.key, i + 1),
                kind: match (c.comparison, gate) {
                    (ComparisonType::String, _) => "STRING_CONSTRAINT_COMPARISON_TYPE",
                    (ComparisonType::Number, _) => "NUMBER_CONSTRAINT_COMPARISON_TYPE",
                    (ComparisonType::Boolean, _) => "BOOLEAN_CONSTRAINT_COMPARISON_TYPE",
                    (ComparisonType::DateTime, _) => "DATETIME_CONSTRAINT_COMPARISON_TYPE",
                    (ComparisonType::EntityId, Gate::Legacy) => {
                        "UNKNOWN_CONSTRAINT_COMPARISON_TYPE"
                    }
                    (ComparisonType::EntityId, _) => "ENTITY_ID_CONSTRAINT_COMPARISON_TYPE",
                },
                property: &c.property,
                operator: c.operator.as_str(),
                value: &c.value,
            })
            .collect(),
    }
}

/// Serialises the snapshot document of `ns`.
pub fn render(ns: &Namespace, gate: Gate, loaded_at: &str, digest: Option<&str>) -> Vec<u8> {
    let flags = ns
        .flags()
        .iter()
        .map(|flag| {
            let rules = flag
                .rules
                .iter()
                .map(|rule| {
                    let rule_id = format!("{}/rules/{}", flag.key, rule.rank);
                    RuleDoc {
                        segments: rule
                            .segments
                            .iter()
                            .map(|r| segment_doc(ns, *r, gate))
                            .collect(),
                        rank: rule.rank,
                        segment_operator: rule.segment_operator.as_str(),
                        distributions: rule
                            .distributions
                            .iter()
                            .enumerate()
                            .map(|(i, d)| {
                                let v = &flag.variants[d.variant];
                                DistributionDoc {
                                    id: format!("{rule_id}/distributions/{}", i + 1),
                                    rule_id: rule_id.clone(),
                                    variant_id: format!("{}/{}", flag.key, v.key),
                                    variant_key: &v.key,
                                    variant_attachment: &v.attachment,
                                    rollout: d.rollout,
                                }
                            })
                            .collect(),
                        id: rule_id,
                    }
                })
                .collect();
            let rollouts = flag
                .rollouts
                .iter()
                .map(|ro| match &ro.kind {
                    RolloutKind::Threshold { percentage, value } => RolloutDoc {
                        kind: "THRESHOLD_ROLLOUT_TYPE",
                        rank: ro.rank,
                        segment: None,
                        threshold: Some(ThresholdDoc {
                            percentage: *percentage,
                            value: *value,
                        }),
                    },
                    RolloutKind::Segment {
                        segments,
                        operator,
                        value,
                    } => RolloutDoc {
                        kind: "SEGMENT_ROLLOUT_TYPE",
                        rank: ro.rank,
                        segment: Some(RolloutSegmentDoc {
                            value: *value,
                            segment_operator: operator.as_str(),
                            segments: segments.iter().map(|r| segment_doc(ns, *r, gate)).collect(),
                        }),
                        threshold: None,
                    },
                })
                .collect();
            let default_variant = match gate {
                Gate::Full => flag.default_variant().map(|v| VariantDoc {
                    id: format!("{}/{}", flag.key, v.key),
                    key: &v.key,
                    attachment: &v.attachment,
                }),
                _ => None,
            };
            FlagDoc {
                key: &flag.key,
                name: &flag.name,
                description: &flag.description,
                enabled: flag.enabled,
                kind: flag.flag_type.as_str(),
                created_at: loaded_at,
                updated_at: loaded_at,
                rules,
                rollouts,
                default_variant,
            }
        })
        .collect();
    let doc = Document {
        namespace: NamespaceKey { key: &ns.key },
        flags,
        digest,
    };
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// A rendered body and its ETag.
#[derive(Debug)]
pub struct Rendered {
    body: bytes::Bytes,
    etag: String,
}

fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

/// Namespace key, gate, and whether it is the v2 form.
type BodyKey = (String, Gate, bool);

/// Bodies rendered for the revision currently served.
#[derive(Debug, Default)]
pub struct SnapshotBodies {
    /// The revision they belong to, and the bodies.
    inner: Mutex<(String, HashMap<BodyKey, Arc<Rendered>>)>,
}

impl SnapshotBodies {
    fn get(&self, published: &Published, ns: &Namespace, gate: Gate, v2: bool) -> Arc<Rendered> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.0 != published.revision {
            *inner = (published.revision.clone(), HashMap::new());
        }
        let key = (ns.key.clone(), gate, v2);
        if let Some(r) = inner.1.get(&key) {
            return Arc::clone(r);
        }
        let loaded_at = guidon_source::store::rfc3339(published.loaded_at);
        let rendered = if v2 {
            // The digest covers the document without itself.
            let digest = sha1_hex(&render(ns, gate, &loaded_at, None));
            let body = render(ns, gate, &loaded_at, Some(&digest));
            Rendered {
                body: body.into(),
                etag: digest,
            }
        } else {
            let body = render(ns, gate, &loaded_at, None);
            Rendered {
                etag: sha1_hex(&body),
                body: body.into(),
            }
        };
        let rendered = Arc::new(rendered);
        inner.1.insert(key, Arc::clone(&rendered));
        rendered
    }
}

/// State the snapshot routes need.
#[derive(Debug, Clone)]
pub struct SnapshotState {
    /// The served snapshot.
    pub store: Arc<SnapshotStore>,
    /// Rendered bodies of the current revision.
    pub bodies: Arc<SnapshotBodies>,
}

/// The snapshot routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SnapshotState: FromRef<S>,
{
    Router::new()
        .route("/internal/v1/evaluation/snapshot/namespace/{key}", get(v1))
        .route(
            "/client/v2/environments/{env}/namespaces/{key}/snapshot",
            get(v2),
        )
}

fn respond(
    state: &SnapshotState,
    key: &str,
    gate: Gate,
    v2: bool,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let published = state.store.load();
    let key = if key.is_empty() { "default" } else { key };
    let ns = published
        .snapshot
        .namespace(key)
        .ok_or_else(|| ApiError::not_found(format!("namespace \"{key}\" not found")))?;
    let rendered = state.bodies.get(&published, ns, gate, v2);
    let etag =
        HeaderValue::from_str(&rendered.etag).map_err(|e| ApiError::invalid(e.to_string()))?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().trim_matches('"') == rendered.etag);
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut res = rendered.body.clone().into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    };
    res.headers_mut().insert(header::ETAG, etag);
    Ok(res)
}

async fn v1(
    State(state): State<SnapshotState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let gate = Gate::from_header(
        headers
            .get("x-flipt-accept-server-version")
            .and_then(|v| v.to_str().ok()),
    );
    respond(&state, &key, gate, false, &headers)
}

async fn v2(
    State(state): State<SnapshotState>,
    Path((_env, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    respond(&state, &key, Gate::Full, true, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_follow_flipt_v1() {
        assert_eq!(Gate::from_header(None), Gate::Legacy);
        assert_eq!(Gate::from_header(Some("1.37.9")), Gate::Legacy);
        assert_eq!(Gate::from_header(Some("1.38.0")), Gate::NoDefaultVariant);
        assert_eq!(Gate::from_header(Some("v1.46.2")), Gate::NoDefaultVariant);
        assert_eq!(Gate::from_header(Some("1.47.0")), Gate::Full);
        assert_eq!(Gate::from_header(Some("2.0.0-beta")), Gate::Full);
        assert_eq!(Gate::from_header(Some("garbage")), Gate::Legacy);
    }
}
