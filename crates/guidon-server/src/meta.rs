//! `GET /health`, `GET /meta/info` and `GET /metrics`.
//!
//! `/health` answers `{"status":"SERVING"}` as Flipt's gateway does for
//! `grpc.health.v1`, with a `detail` object Guidon adds (source, revision,
//! load times, last error, degraded). `/meta/info` follows Flipt v1's shape
//! (plain JSON, not protobuf JSON), reports declarative storage as read-only and
//! adds the served revision. `/metrics` is in [`crate::metrics`].

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::get;
use guidon_source::SnapshotStore;
use serde::Serialize;

use crate::evaluate::json;

/// Static facts about this build and configuration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    /// Guidon's version.
    pub version: String,
    /// Whether authentication is required (always false until auth lands).
    pub authentication_required: bool,
}

/// Everything `/meta/info` needs.
#[derive(Debug, Clone)]
pub struct MetaState {
    /// Build and configuration facts.
    pub build: Arc<BuildInfo>,
    /// The store, for the storage type.
    pub store: Arc<SnapshotStore>,
}

/// The health and meta routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MetaState: FromRef<S>,
{
    Router::new()
        .route("/health", get(health))
        .route("/meta/info", get(info))
        .route("/metrics", get(crate::metrics::render))
}

/// `{"status":"SERVING"}` as Flipt answers, plus a `detail` object saying what
/// is served and from where. A degraded source (stale but serving) never makes
/// health fail: stale flags beat no flags.
async fn health(State(meta): State<MetaState>) -> Response {
    #[derive(Serialize)]
    struct Health {
        status: &'static str,
        detail: Detail,
    }
    #[derive(Serialize)]
    struct Detail {
        version: String,
        degraded: bool,
        sources: Vec<guidon_source::SourceStatus>,
    }
    let status = meta.store.status();
    let body = Health {
        status: "SERVING",
        detail: Detail {
            version: meta.build.version.clone(),
            degraded: status.degraded,
            sources: vec![status],
        },
    };
    json(serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"status":"SERVING"}"#.to_vec()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info<'a> {
    version: &'a str,
    latest_version: &'a str,
    #[serde(rename = "latestVersionURL")]
    latest_version_url: &'a str,
    commit: &'a str,
    build_date: &'a str,
    go_version: &'a str,
    update_available: bool,
    is_release: bool,
    os: &'a str,
    arch: &'a str,
    authentication: Auth,
    storage: Storage<'a>,
}

#[derive(Serialize)]
struct Auth {
    required: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Storage<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    read_only: bool,
    /// Guidon: the revision served (content hash, or commit for git).
    revision: &'a str,
    /// Guidon: where the flags come from.
    location: &'a str,
}

async fn info(State(meta): State<MetaState>) -> Response {
    let status = meta.store.status();
    let info = Info {
        version: &meta.build.version,
        latest_version: "",
        latest_version_url: "",
        commit: "",
        build_date: "",
        go_version: "",
        update_available: false,
        is_release: true,
        os: std::env::consts::OS,
        arch: match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        },
        authentication: Auth {
            required: meta.build.authentication_required,
        },
        storage: Storage {
            kind: status.kind,
            read_only: true,
            revision: &status.revision,
            location: &status.location,
        },
    };
    json(serde_json::to_vec(&info).unwrap_or_default())
}
