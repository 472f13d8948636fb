//! `GET /api/v1/records/{record_id}/certificate?destination=…`: the evidence certificate
//! (PDF) of a record, with its proof bundle on `destination` attached — the bundle the
//! bundle endpoint serves, built by the same code.

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use evidence_schemas::digest::parse_b256;

use super::{
    ApiError, ApiState,
    error::{ErrorBody, PathParam, QueryParams},
    records::{BundleQuery, build_bundle, not_indexed},
};
use crate::certificate::{self, Fonts, font::font_path};

/// The evidence certificate of the record on `destination`: a one-page A4 PDF in English
/// and Chinese (digest, anchoring, every chain it is provable on, revocation, RFC 3161
/// time, a QR code to the lookup page) with the proof bundle attached as
/// `proof-bundle.json`; `bridge verify cert.pdf` checks it.
#[utoipa::path(get, path = "/api/v1/records/{record_id}/certificate", tag = "proofs",
    params(("record_id" = String, Path, description = "record id, 0x-hex"), BundleQuery),
    responses((status = 200, description = "the certificate", content_type = "application/pdf"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn certificate(
    State(state): State<ApiState>,
    PathParam(record_id): PathParam<String>,
    QueryParams(query): QueryParams<BundleQuery>,
) -> Result<Response, ApiError> {
    let record_id = parse_b256("record_id", &record_id)?;
    let destination = query.destination.ok_or_else(|| {
        ApiError::bad_request("missing query parameter `destination`: the chain (name or CAIP-2 id) whose proof the certificate carries")
    })?;
    let dest = state.chain(&destination)?.clone();
    let settings = state.settings();
    let base = settings.api.lookup_base().ok_or_else(|| {
        ApiError::unavailable(
            "this node does not know its public address for the QR code: set [api] public_url",
        )
    })?;
    let fonts = Fonts::cached(&font_path(settings.certificate.font.as_deref())).map_err(|e| {
        tracing::error!(target: "api", error = %e, "certificate font");
        ApiError::unavailable("this node cannot render certificates (its font is missing; see its log); the proof bundle endpoint still works")
    })?;
    let primary = build_bundle(&state, record_id, &dest).await?;
    let view = state
        .store()
        .load_record(record_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| not_indexed(record_id))?;
    let others = certificate::other_bundles(&view, &dest.chain_id, &settings.chains, |chain| {
        let state = state.clone();
        async move {
            build_bundle(&state, record_id, chain)
                .await
                .map_err(|e| e.message)
        }
    })
    .await;
    // The TSA roots were read once by `config check` and at start; one that no longer
    // reads only leaves the certificate without trusted times.
    let roots = crate::timestamping::configured_roots(&settings.timestamping).unwrap_or_default();
    let mut req = certificate::Request::new(view, primary, others, &settings.chains, base);
    req.timestamps = certificate::verified_times(&req.primary, &roots);
    let (_, pdf) = certificate::issue(req, fonts).await.map_err(rendering)?;
    let mut res = pdf.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let file = format!(
        "attachment; filename=\"certificate-{}-{}.pdf\"",
        &record_id.to_string()[2..14],
        sanitize(&dest.name)
    );
    if let Ok(v) = HeaderValue::from_str(&file) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

fn rendering(e: String) -> ApiError {
    tracing::error!(target: "api", error = %e, "certificate rendering failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("rendering the certificate failed: {e}; tell the operator"),
    )
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
