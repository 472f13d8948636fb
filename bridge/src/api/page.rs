//! The evidence lookup page at `/`: static files (`bridge/assets/`) embedded in the
//! binary, served with their content types, a validator (`ETag`, so browsers revalidate
//! cheaply and never run a stale script after an upgrade) and a strict
//! Content-Security-Policy (scripts, styles and API calls from this origin only; no
//! inline code, no frames, no third parties).
//!
//! The page is plain HTML, CSS and JavaScript modules. Its one generated file is
//! `/assets/vendor/noble.mjs`: keccak-256, SHA-256 and secp256k1 from the npm packages
//! `@noble/hashes` and `@noble/curves` (pinned in `deploy/package.json`), bundled by
//! `deploy/scripts/bundle-noble.js` (run by `deploy/scripts/install-tools.sh`) into
//! `bridge/assets/vendor/`, which is git-ignored, and embedded here at build time
//! (`build.rs` stops the build when it is missing). The page talks only to this server's
//! JSON API; files dropped on it are hashed in the browser and never uploaded.

use std::sync::OnceLock;

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// The Content-Security-Policy of every page response.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    /// Path under `/assets/` (`index.html` is served at `/`).
    name: &'static str,
    /// `Content-Type`.
    content_type: &'static str,
    /// The bytes.
    body: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the page.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../assets/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: JS,
        body: include_bytes!("../../assets/app.js"),
    },
    Asset {
        name: "verify.mjs",
        content_type: JS,
        body: include_bytes!("../../assets/verify.mjs"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/style.css"),
    },
    // Generated from npm by deploy/scripts/bundle-noble.js; see the module docs.
    Asset {
        name: "vendor/noble.mjs",
        content_type: JS,
        body: include_bytes!("../../assets/vendor/noble.mjs"),
    },
];

/// The page's routes: `/` and `/assets/{path}`. Generic over the state so it merges
/// into the API router before or after `with_state`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

/// Strong validators: a hash of each file, computed once.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                format!(
                    "\"{}\"",
                    &hex::encode(alloy::primitives::keccak256(a.body))[..20]
                )
            })
            .collect()
    })
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        let known: Vec<&str> = ASSETS.iter().map(|a| a.name).collect();
        let body = serde_json::json!({
            "error": format!("no page file {name:?}; the lookup page is at / and its files are /assets/{{{}}}", known.join(",")),
        });
        let mut res = (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
        security_headers(res.headers_mut());
        return res;
    };
    let asset = &ASSETS[i];
    let etag = &etags()[i];
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    // Revalidate every time: the ETag makes that a 304 without a body.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    security_headers(h);
    res
}

fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Serves the page routes on a loopback port and sends one raw HTTP/1.1 request.
    async fn get_raw(path: &str, extra: &str) -> (u16, String, Vec<u8>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, routes::<()>()).await });
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{extra}\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        server.abort();
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(buf[..split].to_vec())
            .unwrap()
            .to_ascii_lowercase();
        let status = head[9..12].parse().unwrap();
        (status, head, buf[split + 4..].to_vec())
    }

    #[tokio::test]
    async fn every_file_is_served_with_its_type_and_the_policy() {
        for (path, ty, needle) in [
            ("/", "text/html", "id=\"file\""),
            ("/assets/app.js", "text/javascript", "verify.mjs"),
            ("/assets/verify.mjs", "text/javascript", "keccak256"),
            ("/assets/style.css", "text/css", ".record"),
            ("/assets/index.html", "text/html", "<main>"),
            (
                "/assets/vendor/noble.mjs",
                "text/javascript",
                "@noble/curves",
            ),
        ] {
            let (status, head, body) = get_raw(path, "").await;
            assert_eq!(status, 200, "{path}: {head}");
            assert!(
                head.contains(&format!("content-type: {ty}")),
                "{path}: {head}"
            );
            assert!(
                head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
                "{path}: {head}"
            );
            assert!(
                head.contains("x-content-type-options: nosniff"),
                "{path}: {head}"
            );
            assert!(head.contains("cache-control: no-cache"), "{path}: {head}");
            assert!(
                String::from_utf8_lossy(&body).contains(needle),
                "{path} lacks {needle}"
            );
        }
    }

    #[tokio::test]
    async fn a_matching_etag_gives_304_and_unknown_files_a_json_404() {
        let (_, head, _) = get_raw("/assets/app.js", "").await;
        let etag = head
            .lines()
            .find_map(|l| l.strip_prefix("etag: "))
            .unwrap()
            .trim()
            .to_owned();
        let (status, _, body) =
            get_raw("/assets/app.js", &format!("if-none-match: {etag}\r\n")).await;
        assert_eq!(status, 304);
        assert!(body.is_empty());
        let (status, _, _) = get_raw("/assets/app.js", "if-none-match: \"other\"\r\n").await;
        assert_eq!(status, 200);

        for path in [
            "/assets/secret.toml",
            "/assets/..%2Fconfig.rs",
            "/assets/%00",
            "/assets/vendor/../app.js",
            "/assets/vendor/",
        ] {
            let (status, head, body) = get_raw(path, "").await;
            assert_eq!(status, 404, "{path}: {head}");
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(v["error"].as_str().unwrap().contains("/assets/"), "{v}");
        }
    }

    #[test]
    fn the_page_loads_nothing_from_other_origins() {
        for a in ASSETS {
            let text = std::str::from_utf8(a.body).unwrap();
            // The noble bundle cites papers in its comments; its code names no URL.
            let code = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                !code.contains("http://") && !code.contains("https://"),
                "{} refers to another origin",
                a.name
            );
            assert!(
                !code.contains("import("),
                "{} loads code at run time",
                a.name
            );
            if a.name == "index.html" {
                assert!(
                    !text.contains("<script>") && !text.contains(" style=\""),
                    "inline code would be blocked by the CSP"
                );
            }
        }
    }

    #[test]
    fn the_noble_bundle_is_the_pinned_npm_packages() {
        let bundle = ASSETS
            .iter()
            .find(|a| a.name == "vendor/noble.mjs")
            .unwrap();
        let text = std::str::from_utf8(bundle.body).unwrap();
        let pinned: serde_json::Value =
            serde_json::from_str(include_str!("../../../deploy/package.json")).unwrap();
        for name in ["@noble/curves", "@noble/hashes"] {
            let version = pinned["dependencies"][name].as_str().unwrap();
            assert!(
                text.starts_with("// ")
                    && text
                        .lines()
                        .next()
                        .unwrap()
                        .contains(&format!("{name} {version}")),
                "banner lacks {name} {version}"
            );
            assert!(
                text.contains(&format!("\"{name}\": \"{version}\"")),
                "NOBLE_VERSIONS lacks {name} {version}"
            );
        }
        // esbuild names each bundled module by its path in deploy/node_modules.
        for module in [
            "@noble/curves/secp256k1.js",
            "@noble/curves/abstract/weierstrass.js",
            "@noble/hashes/sha3.js",
        ] {
            assert!(
                text.contains(&format!("// deploy/node_modules/{module}")),
                "the bundle lacks {module}"
            );
        }
    }
}
