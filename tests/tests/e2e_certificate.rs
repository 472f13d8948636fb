//! The evidence certificate, end to end with the real binary on a three-chain devnet: a
//! record anchored on alpha and provable on beta and gamma gets `bridge certificate
//! --to beta`, which is then read back with real tools — `pdfinfo` (one A4 page),
//! `pdffonts` (the CJK font embedded as a subset), `pdftotext` (digest, record id, the
//! three chain names, the Chinese text, the RFC 3161 time of the devnet TSA's token), `pdftoppm` (the page as
//! PNG under `target/e2e-certificate/`, printed), `zbarimg` (the QR code decodes to the
//! lookup page URL with the digest) — and verified: `bridge verify cert.pdf --offline
//! --trust` passes, without a trust root it is unpinned (exit 4), a certificate whose
//! attached bundle was edited fails (exit 1), one whose attachment is not JSON is bad
//! input (exit 2), a PDF without a bundle is refused (exit 2). The API endpoint
//! (`bridge run` serving it) returns the same kind of PDF, and JSON errors. The tools come
//! from Debian's poppler-utils and zbar-tools (deploy/scripts/install-tools.sh); a
//! missing tool fails the test and says so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use evidence_tests::workspace_root;
use serde_json::Value;
use support::Devnet;

const PROVABLE: Duration = Duration::from_secs(150);

fn tool(name: &str) -> PathBuf {
    let path = PathBuf::from(format!("/usr/bin/{name}"));
    assert!(
        path.is_file(),
        "{name} is missing: run bash deploy/scripts/install-tools.sh (installs Debian's poppler-utils and zbar-tools)"
    );
    path
}

fn run_tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(tool(name)).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Rewrites the attached bundle of `pdf` (through lopdf, as any PDF editor would).
fn edit_attachment(pdf: &Path, out: &Path, edit: impl Fn(Vec<u8>) -> Vec<u8>) {
    let mut doc = lopdf::Document::load(pdf).unwrap();
    let ids: Vec<lopdf::ObjectId> = doc
        .objects
        .iter()
        .filter(|(_, o)| {
            o.as_stream().is_ok_and(|s| {
                s.dict
                    .get(b"Type")
                    .and_then(|t| t.as_name())
                    .is_ok_and(|n| n == b"EmbeddedFile")
            })
        })
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(ids.len(), 1, "one embedded file stream");
    let stream = doc.get_object_mut(ids[0]).unwrap().as_stream_mut().unwrap();
    let plain = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    stream.set_plain_content(edit(plain));
    doc.save(out).unwrap();
}

/// Writes a copy of `pdf` with the attachment removed from the catalog.
fn strip_attachment(pdf: &Path, out: &Path) {
    let mut doc = lopdf::Document::load(pdf).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let catalog = doc.get_dictionary_mut(root).unwrap();
    catalog.remove(b"AF");
    catalog.remove(b"Names");
    doc.save(out).unwrap();
}

/// `pdf`'s page as `DIR/NAME.png` (150 dpi) and what `zbarimg` decodes from it.
fn png_and_qr(pdf: &Path, dir: &Path, name: &str) -> (PathBuf, String) {
    let base = dir.join(name);
    run_tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "150",
            "-singlefile",
            pdf.to_str().unwrap(),
            base.to_str().unwrap(),
        ],
    );
    let png = dir.join(format!("{name}.png"));
    assert!(png.is_file(), "pdftoppm wrote no {}", png.display());
    let qr = run_tool("zbarimg", &["--quiet", "--raw", png.to_str().unwrap()]);
    (png, qr.trim().to_owned())
}

fn get(url: &str) -> (u16, String, Vec<u8>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let res = reqwest::get(url).await.unwrap();
        let status = res.status().as_u16();
        let ty = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, ty, res.bytes().await.unwrap().to_vec())
    })
}

#[test]
fn a_certificate_reads_back_with_poppler_and_zbar_and_verifies_through_its_attached_bundle() {
    for t in [
        "pdftotext",
        "pdftoppm",
        "pdfinfo",
        "pdffonts",
        "pdfdetach",
        "zbarimg",
    ] {
        tool(t);
    }
    let net = Devnet::start(3, 1).unwrap();
    let api_port = free_port();
    let listen = format!("127.0.0.1:{api_port}");
    let _relayer = net.start_relayer_with(0, &[("BRIDGE__API__LISTEN", listen.as_str())]);
    let config = net.config();
    let config = config.to_str().unwrap();

    let id = net.anchor_text(
        "alpha",
        "IOU: the borrower owes the lender 1,000.00 (certificate test)",
    );
    net.wait_provable(&id, "gamma", PROVABLE).unwrap();
    // The devnet's TSA timestamps every accepted checkpoint: once relaying is quiet (no
    // newer checkpoint will be mirrored), wait until beta's bundle carries the token, so
    // the certificate (built from the same checkpoint) has a trusted time to print.
    net.wait_quiet(PROVABLE).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let bundle: Value = loop {
        let path = net.wait_provable(&id, "beta", PROVABLE).unwrap();
        let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if bundle["timestamps"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
        {
            break bundle;
        }
        assert!(
            Instant::now() < deadline,
            "beta's bundle never carried an RFC 3161 token: {bundle}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let gen_time = bundle["timestamps"][0]["gen_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let digest = bundle["record"]["evidence"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();

    // The CLI, with a public URL set for the QR code.
    let dir = target_dir().join("e2e-certificate");
    std::fs::create_dir_all(&dir).unwrap();
    let cert = net.dir.path().join("cert.pdf");
    let public = "https://evidence.example.org/lookup";
    let out = net
        .command(&[
            "certificate",
            "--config",
            config,
            &id,
            "--to",
            "beta",
            "-o",
            cert.to_str().unwrap(),
            "--json",
        ])
        .env("BRIDGE__API__PUBLIC_URL", public)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bridge certificate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["provable_on"],
        serde_json::json!(["beta", "gamma"]),
        "{summary}"
    );
    assert!(std::fs::read(&cert).unwrap().starts_with(b"%PDF-"));

    // One A4 page; the font embedded and subset.
    let info = run_tool("pdfinfo", &[cert.to_str().unwrap()]);
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    let fonts = run_tool("pdffonts", &[cert.to_str().unwrap()]);
    let font_rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(
        !font_rows.is_empty()
            && font_rows
                .iter()
                .all(|l| l.contains('+') && l.contains(" yes yes ")),
        "fonts not embedded as subsets:\n{fonts}"
    );
    let attachments = run_tool("pdfdetach", &["-list", cert.to_str().unwrap()]);
    assert!(
        attachments.contains("1 embedded files") && attachments.contains("proof-bundle.json"),
        "{attachments}"
    );

    // The text, in both languages.
    let text = run_tool("pdftotext", &["-layout", cert.to_str().unwrap(), "-"]);
    for needle in [
        digest.as_str(),
        id.as_str(),
        "alpha",
        "beta",
        "gamma",
        "Evidence Certificate",
        "存证证书",
        "可验证于",
        "未撤销",
        "Trusted timestamp (RFC 3161)",
        gen_time.as_str(),
        "SHA-256",
    ] {
        assert!(
            text.contains(needle),
            "pdftotext finds no {needle:?} in:\n{text}"
        );
    }
    assert!(
        !text.contains("no trusted timestamp in this bundle"),
        "the bundle carries a token, the certificate must print its time:\n{text}"
    );
    // The signers of each chain's checkpoint are named.
    let signer = bundle["signatures"][0]["attestor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        !signer.is_empty() && text.to_lowercase().contains(&signer.to_lowercase()),
        "no signer {signer:?} in:\n{text}"
    );

    // The page as PNG, and its QR code.
    let (png, qr) = png_and_qr(&cert, &dir, "certificate");
    println!("certificate page rendered to {}", png.display());
    assert_eq!(
        qr,
        format!("{public}/?digest={digest}"),
        "the QR code decodes to the lookup page on the digest"
    );

    // Verified through the attached bundle: offline with the trust root, unpinned
    // without one.
    let trust = net.dir.path().join("trust.json");
    let out = net.run(&[
        "trust",
        "export",
        "--config",
        config,
        "-o",
        trust.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "trust export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = net.run(&[
        "verify",
        cert.to_str().unwrap(),
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
        "--json",
    ]);
    let r = report(&out);
    assert!(out.status.success(), "the certificate does not verify: {r}");
    assert_eq!(r["status"], "valid", "{r}");
    assert_eq!(r["record_id"], id.as_str());
    let human = net.run(&[
        "verify",
        cert.to_str().unwrap(),
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
    ]);
    let human_text = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.status.success()
            && human_text.contains("proof-bundle.json")
            && human_text.contains("bundle VALID"),
        "{human_text}"
    );
    let out = net.run(&["verify", cert.to_str().unwrap(), "--offline", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "unpinned: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Online too (the mirror on beta, the source transaction on alpha).
    let out = net.run(&[
        "verify",
        cert.to_str().unwrap(),
        "--config",
        config,
        "--json",
    ]);
    assert!(out.status.success(), "online: {}", report(&out));

    // An edited bundle fails its check (exit 1) ...
    let edited = net.dir.path().join("edited.pdf");
    edit_attachment(&cert, &edited, |bytes| {
        let mut b: Value = serde_json::from_slice(&bytes).unwrap();
        let root = b["checkpoint"]["root"].as_str().unwrap().to_owned();
        let flipped = format!(
            "{}{}",
            &root[..65],
            if root.ends_with('0') { '1' } else { '0' }
        );
        b["checkpoint"]["root"] = Value::String(flipped);
        serde_json::to_vec_pretty(&b).unwrap()
    });
    let out = net.run(&[
        "verify",
        edited.to_str().unwrap(),
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
        "--json",
    ]);
    let r = report(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an edited bundle must fail: {r}"
    );
    assert_eq!(r["status"], "invalid", "{r}");
    // ... an attachment that is no bundle is bad input (exit 2) ...
    let garbage = net.dir.path().join("garbage.pdf");
    edit_attachment(&cert, &garbage, |_| b"this is not JSON".to_vec());
    let out = net.run(&[
        "verify",
        garbage.to_str().unwrap(),
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("proof-bundle.json"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ... and a PDF with no bundle is refused, whatever its file name.
    let bare = net.dir.path().join("bare.json");
    strip_attachment(&cert, &bare);
    let out = net.run(&["verify", bare.to_str().unwrap(), "--offline"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("carries no proof bundle"), "{err}");

    // The API endpoint: the same kind of PDF, and JSON errors.
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            Instant::now() < deadline,
            "the API did not come up on {listen}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, ty, body) = get(&format!(
        "{base}/api/v1/records/{id}/certificate?destination=gamma"
    ));
    assert_eq!(
        (status, ty.as_str()),
        (200, "application/pdf"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let api_cert = net.dir.path().join("api-cert.pdf");
    std::fs::write(&api_cert, &body).unwrap();
    let text = run_tool("pdftotext", &[api_cert.to_str().unwrap(), "-"]);
    assert!(
        text.contains(&digest) && text.contains("gamma") && text.contains("存证证书"),
        "{text}"
    );
    let (_, qr) = png_and_qr(&api_cert, &dir, "api-certificate");
    assert_eq!(
        qr,
        format!("{base}/?digest={digest}"),
        "the node's own address when no public URL is set"
    );
    let out = net.run(&[
        "verify",
        api_cert.to_str().unwrap(),
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
        "--json",
    ]);
    let r = report(&out);
    assert!(out.status.success(), "{r}");
    assert_ne!(
        r["destination_chain"], bundle["destination"]["chain"],
        "the API certificate carries gamma's bundle: {r}"
    );
    for (url, want) in [
        (format!("{base}/api/v1/records/{id}/certificate"), 400),
        (
            format!(
                "{base}/api/v1/records/0x{}/certificate?destination=beta",
                "ab".repeat(32)
            ),
            404,
        ),
        (
            format!("{base}/api/v1/records/nothex/certificate?destination=beta"),
            400,
        ),
        (
            format!("{base}/api/v1/records/{id}/certificate?destination=nowhere"),
            404,
        ),
    ] {
        let (status, ty, body) = get(&url);
        assert_eq!(status, want, "{url}: {}", String::from_utf8_lossy(&body));
        assert!(ty.starts_with("application/json"), "{url}: {ty}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
}
