//! The evidence certificate (存证证书): a one-page A4 PDF, in English and Chinese, that
//! says what a person needs to show a court or a counterparty — the document digest,
//! where and when it was anchored, every chain it is provable on (checkpoint, mirror
//! transaction, attestor set and signers), revocation status, the RFC 3161 time, and a
//! QR code that opens the lookup page on the digest — and that carries the proof bundle
//! as an attached file (`proof-bundle.json`, an associated file of the document), so the
//! certificate is itself verifiable: `bridge verify cert.pdf` extracts and verifies it.
//!
//! - [`model`]: what the certificate says (built from bundles and the record view);
//! - [`layout`]: where each string goes on the page (pure, measured with the font);
//! - [`font`]: the CJK font (Debian's `fonts-wqy-microhei`), embedded and subset;
//! - [`qr`]: the QR code's modules, drawn as vector rectangles;
//! - [`embed`]: reading the attached bundle back out of a PDF (`lopdf`), bounded.
//!
//! The PDF is written by `krilla` (PDF 2.0; fonts subset; the bundle an embedded file
//! with `AFRelationship /Data`).

pub(crate) mod embed;
pub(crate) mod font;
pub(crate) mod layout;
pub(crate) mod model;
pub(crate) mod qr;

use krilla::{
    Document, SerializeSettings,
    color::rgb,
    configure::{ConfigurationBuilder, PdfVersion},
    embed::{AssociationKind, EmbeddedFile, MimeType},
    geom::{PathBuilder, Point, Rect},
    metadata::{DateTime, Metadata},
    page::PageSettings,
    paint::Fill,
    text::TextDirection,
};

pub(crate) use font::Fonts;
pub(crate) use model::Certificate;

use layout::{Item, PAGE_H, PAGE_W};

/// The attached bundle's file name.
pub(crate) const BUNDLE_FILE: &str = "proof-bundle.json";

/// The bundles of the chains other than `primary` that `view`'s record is mirrored on,
/// built by `build` (the same builder as the attached bundle's); a chain this node does
/// not configure, or whose bundle cannot be built, is listed with the reason.
pub(crate) async fn other_bundles<'a, F, Fut>(
    view: &evidence_relayer::query::RecordView,
    primary: &evidence_schemas::ChainId,
    chains: &'a [crate::config::ChainSettings],
    build: F,
) -> Vec<(evidence_schemas::ChainId, model::DestinationBundle)>
where
    F: Fn(&'a crate::config::ChainSettings) -> Fut,
    Fut: std::future::Future<Output = model::DestinationBundle>,
{
    let mut out = Vec::new();
    for m in view
        .mirrored_on
        .iter()
        .filter(|m| &m.destination_chain != primary)
    {
        let built = match chains.iter().find(|c| c.chain_id == m.destination_chain) {
            Some(chain) => build(chain).await,
            None => Err("not a chain of this node's config".to_owned()),
        };
        out.push((m.destination_chain.clone(), built));
    }
    out
}

/// The RFC 3161 times of `bundle`'s tokens that verify against `roots`, for
/// [`Request::timestamps`]. A token that does not verify is left out: the certificate
/// prints only trusted times.
pub(crate) fn verified_times(
    bundle: &evidence_schemas::ProofBundle,
    roots: &evidence_schemas::timestamp::TsaRoots,
) -> Vec<model::TsaTime> {
    let Ok(results) = bundle.verify_timestamps(roots) else {
        return Vec::new();
    };
    bundle
        .timestamps
        .iter()
        .zip(results)
        .filter_map(|(t, r)| {
            r.ok().map(|v| model::TsaTime {
                tsa: format!("{} ({})", t.tsa, v.tsa_subject),
                time: evidence_schemas::unix_to_rfc3339(v.gen_time),
            })
        })
        .collect()
}

/// The inputs of one certificate (see [`Certificate::new`]).
pub(crate) struct Request {
    /// The record.
    pub(crate) view: evidence_relayer::query::RecordView,
    /// The bundle to attach.
    pub(crate) primary: evidence_schemas::ProofBundle,
    /// The other chains' bundles ([`other_bundles`]).
    pub(crate) others: Vec<(evidence_schemas::ChainId, model::DestinationBundle)>,
    /// Chain names by CAIP-2 id (the config's).
    pub(crate) names: Vec<(evidence_schemas::ChainId, String)>,
    /// The lookup page's URL.
    pub(crate) lookup_base: String,
    /// The RFC 3161 times of the primary bundle's checkpoint, (TSA, time), verified by
    /// the caller against the configured TSA roots ([`verified_times`]); empty, the
    /// certificate says "no trusted timestamp in this bundle".
    pub(crate) timestamps: Vec<model::TsaTime>,
}

impl Request {
    /// A request naming chains as `chains` (the config's) do.
    pub(crate) fn new(
        view: evidence_relayer::query::RecordView,
        primary: evidence_schemas::ProofBundle,
        others: Vec<(evidence_schemas::ChainId, model::DestinationBundle)>,
        chains: &[crate::config::ChainSettings],
        lookup_base: String,
    ) -> Self {
        let names = chains
            .iter()
            .map(|c| (c.chain_id.clone(), c.name.clone()))
            .collect();
        Self {
            view,
            primary,
            others,
            names,
            lookup_base,
            timestamps: Vec::new(),
        }
    }
}

/// A bundle as `bridge proof` writes it (and the certificate attaches it): pretty JSON
/// and a newline.
pub(crate) fn bundle_json(bundle: &evidence_schemas::ProofBundle) -> Result<String, String> {
    serde_json::to_string_pretty(bundle)
        .map(|t| t + "\n")
        .map_err(|e| format!("writing the bundle: {e}"))
}

/// Makes the certificate of `req`: the model, rendered with the primary bundle
/// attached exactly as `bridge proof` writes it, on a blocking thread (font subsetting
/// is CPU-bound).
pub(crate) async fn issue(req: Request, fonts: Fonts) -> Result<(Certificate, Vec<u8>), String> {
    tokio::task::spawn_blocking(move || {
        let name = |id: &evidence_schemas::ChainId| {
            req.names
                .iter()
                .find(|(c, _)| c == id)
                .map_or_else(|| id.to_string(), |(_, n)| n.clone())
        };
        let mut cert = Certificate::new(
            &req.view,
            &req.primary,
            &req.others,
            &name,
            &req.lookup_base,
            model::now_rfc3339(),
        )?;
        cert.timestamps = req.timestamps;
        let pdf = render(&cert, bundle_json(&req.primary)?.as_bytes(), &fonts)?;
        Ok((cert, pdf))
    })
    .await
    .map_err(|e| format!("rendering stopped: {e}"))?
}

/// Renders `cert` with `bundle_json` (the proof bundle, exactly as `bridge proof`
/// writes it) attached.
pub(crate) fn render(
    cert: &Certificate,
    bundle_json: &[u8],
    fonts: &Fonts,
) -> Result<Vec<u8>, String> {
    let page = layout::layout(cert, fonts)?;
    let settings = SerializeSettings {
        configuration: ConfigurationBuilder::new()
            .with_version(PdfVersion::Pdf20)
            .finish()
            .map_err(|e| format!("PDF 2.0 configuration refused: {e:?}"))?,
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    let date = pdf_date(&cert.issued_at);
    let mut meta = Metadata::new()
        .title(format!(
            "Evidence certificate 存证证书 — record {}",
            cert.record_id
        ))
        .description(format!(
            "Digest {} ({}); proof bundle attached as {BUNDLE_FILE}",
            cert.digest, cert.digest_alg
        ))
        .creator("Evidence Bridge".to_owned())
        .producer(format!("evidence-bridge {}", env!("CARGO_PKG_VERSION")))
        .language("en".to_owned());
    if let Some(d) = date {
        meta = meta.creation_date(d);
    }
    doc.set_metadata(meta);
    let size = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("A4 is a valid page size")?;
    {
        let mut p = doc.start_page_with(size);
        let mut surface = p.surface();
        let text_font = fonts
            .krilla(font::Face::Text)
            .ok_or_else(|| format!("{}: the text face cannot be used", fonts.path.display()))?;
        let mono_font = fonts.krilla(font::Face::Mono).ok_or_else(|| {
            format!(
                "{}: the monospace face cannot be used",
                fonts.path.display()
            )
        })?;
        for item in &page.items {
            match item {
                Item::Text {
                    x,
                    y,
                    size,
                    face,
                    color,
                    text,
                    ..
                } => {
                    surface.set_fill(Some(fill(*color)));
                    let font = if *face == font::Face::Mono {
                        mono_font.clone()
                    } else {
                        text_font.clone()
                    };
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        font,
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Item::Rect { x, y, w, h, color } => {
                    let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                        continue;
                    };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(rect);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        p.finish();
    }
    let file = EmbeddedFile {
        path: BUNDLE_FILE.to_owned(),
        mime_type: MimeType::new("application/json"),
        description: Some(format!(
            "Evidence Bridge proof bundle of record {} on {}: verify with `bridge verify THIS.pdf`",
            cert.record_id,
            cert.provable.first().map_or("", |p| p.chain_id.as_str())
        )),
        association_kind: AssociationKind::Data,
        data: bundle_json.to_vec().into(),
        modification_date: date,
        compress: Some(true),
        location: None,
    };
    doc.embed_file(file)
        .ok_or("the bundle was attached twice; this is a bug")?;
    doc.finish()
        .map_err(|e| format!("writing the PDF failed: {e:?}"))
}

fn fill(color: layout::Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        ..Fill::default()
    }
}

/// `2026-12-01T12:34:56Z` as a PDF date.
fn pdf_date(rfc3339: &str) -> Option<DateTime> {
    let t: jiff::Timestamp = rfc3339.parse().ok()?;
    let z = t.to_zoned(jiff::tz::TimeZone::UTC);
    Some(
        DateTime::new(u16::try_from(z.year()).ok()?)
            .month(u8::try_from(z.month()).ok()?)
            .day(u8::try_from(z.day()).ok()?)
            .hour(u8::try_from(z.hour()).ok()?)
            .minute(u8::try_from(z.minute()).ok()?)
            .second(u8::try_from(z.second()).ok()?)
            .utc_offset_hour(0)
            .utc_offset_minute(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_certificate_carries_its_bundle_and_subset_fonts() {
        let fonts = Fonts::load(std::path::Path::new(font::DEFAULT_FONT)).unwrap();
        let cert = layout::tests::sample(2, 3);
        let bundle = br#"{"version":2,"hello":"bundle"}"#;
        let pdf = render(&cert, bundle, &fonts).unwrap();
        assert!(pdf.starts_with(b"%PDF-2.0"));
        // Subset: far smaller than the 5 MiB collection.
        assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
        assert_eq!(embed::extract_bundle(&pdf).unwrap(), bundle.to_vec());
        assert!(pdf_date("2026-12-01T12:34:56Z").is_some());
    }
}
