//! The web UI's built assets (`web/dist`), embedded in the binary so that running Tandem needs
//! neither Node nor the source tree.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::error::ApiError;

#[derive(Embed)]
#[folder = "../../web/dist/"]
struct Assets;

/// `GET /assets/{*path}`
pub async fn asset(Path(path): Path<String>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return ApiError::not_found(format!("no asset {path:?}")).into_response();
    };
    let mime = file.metadata.mimetype().to_string();
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Asset URLs carry the content hash (`?v=`), so they can be cached for long.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

/// A short digest of an asset's content for cache-busting URLs.
pub fn version(path: &str) -> String {
    Assets::get(path)
        .map(|f| hex::encode(&f.metadata.sha256_hash()[..6]))
        .unwrap_or_default()
}
