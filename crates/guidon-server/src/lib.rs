//! # guidon-server
//!
//! Guidon's HTTP transport: thin axum routes that translate Flipt's REST wire
//! format to and from `guidon-core`, reading the snapshot published by a
//! `guidon-source` store.
//!
//! ## Layout
//!
//! - [`evaluate`]: `POST /evaluate/v1/{boolean,variant,batch}`.
//! - [`legacy`]: `POST /api/v1/evaluate`, `/api/v1/batch-evaluate` (and namespaced).
//! - [`ofrep`]: OpenFeature Remote Evaluation Protocol (single, bulk, configuration).
//! - [`management`]: read side of `/api/v1` (namespaces, flags, segments, rules,
//!   rollouts) and
//!   read-only answers for every write route.
//! - [`meta`]: `GET /health`, `GET /meta/info`, `GET /metrics` (Prometheus text).
//! - [`snapshot`]: client-side snapshots (`/internal/v1/evaluation/snapshot/...`,
//!   `/client/v2/.../snapshot`) with ETags.
//! - [`error`]: [`ApiError`], the single place where errors become Flipt's
//!   `google.rpc.Status` bodies and HTTP statuses.
//! - [`router`] composes the routers with the shared middleware (body limit,
//!   trailing-slash trimming, request timeout, Flipt-shaped 404/405);
//!   [`serve`] runs it on a bound listener until a shutdown future completes.
//!
//! Deliberately left out (for now): gRPC, streaming (and OFREP's SSE),
//! authentication and evaluation metrics.

pub mod error;
pub mod evaluate;
pub mod legacy;
pub mod management;
pub mod meta;
mod metrics;
pub mod ofrep;
pub mod snapshot;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, Request};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use guidon_source::SnapshotStore;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

pub use error::{ApiError, Code};
pub use meta::{BuildInfo, MetaState};

/// Largest request body accepted (gRPC's default maximum message size).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Shared state of the HTTP app.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The served snapshot and its source status.
    pub store: Arc<SnapshotStore>,
    /// Build facts for `/meta/info`.
    pub build: Arc<BuildInfo>,
    /// Client-side snapshot bodies rendered for the current revision.
    pub bodies: Arc<snapshot::SnapshotBodies>,
}

impl AppState {
    /// State for `store` and `build`.
    pub fn new(store: Arc<SnapshotStore>, build: BuildInfo) -> Self {
        Self {
            store,
            build: Arc::new(build),
            bodies: Arc::default(),
        }
    }
}

impl FromRef<AppState> for snapshot::SnapshotState {
    fn from_ref(s: &AppState) -> Self {
        snapshot::SnapshotState {
            store: Arc::clone(&s.store),
            bodies: Arc::clone(&s.bodies),
        }
    }
}

impl FromRef<AppState> for Arc<SnapshotStore> {
    fn from_ref(s: &AppState) -> Self {
        Arc::clone(&s.store)
    }
}

impl FromRef<AppState> for MetaState {
    fn from_ref(s: &AppState) -> Self {
        MetaState {
            build: Arc::clone(&s.build),
            store: Arc::clone(&s.store),
        }
    }
}

/// Settings of the HTTP app.
#[derive(Debug, Clone, Copy)]
pub struct AppOptions {
    /// Longest a request may take before it is answered with 504.
    pub request_timeout: Duration,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
        }
    }
}

async fn fallback(method: Method) -> Response {
    if matches!(
        method,
        Method::GET | Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    ) {
        ApiError::not_found("Not Found").into_response()
    } else {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            Code::Unimplemented,
            "Method Not Allowed",
        )
        .into_response()
    }
}

/// Answers 504 `DeadlineExceeded` (with a status body, as Flipt does) when a
/// request takes longer than `limit`.
async fn deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            Code::DeadlineExceeded,
            "context deadline exceeded",
        )
        .into_response(),
    }
}

/// The routes with their middleware.
pub fn router(state: AppState, opts: AppOptions) -> Router {
    Router::new()
        .merge(evaluate::router())
        .merge(legacy::router())
        .merge(management::router())
        .merge(ofrep::router())
        .merge(meta::router())
        .merge(snapshot::router())
        .fallback(fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::Unimplemented,
                "Method Not Allowed",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            opts.request_timeout,
            deadline,
        ))
        .with_state(state)
}

/// Serves the app on `listener` until `shutdown` completes, then stops accepting
/// connections and lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    opts: AppOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let svc = NormalizePathLayer::trim_trailing_slash().layer(router(state, opts));
    axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service(svc),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn slow_requests_get_a_status_body_504() {
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Duration::from_millis(20),
                deadline,
            ));
        let res = app
            .oneshot(Request::builder().uri("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        assert_eq!(
            &body[..],
            br#"{"code":4,"message":"context deadline exceeded","details":[]}"#
        );
    }
}
