//! The certificate's one A4 page, laid out as positioned text runs and rectangles
//! (pure: measured with the font, drawn by [`super::render`]). Every string is
//! bilingual: an English label followed by its Chinese one.
//!
//! Coordinates are PDF points from the top-left corner, y downwards; a text's `y` is its
//! baseline. What does not fit is shortened with a note rather than drawn off the page:
//! attestor members beyond a per-chain budget, then chains beyond the space left, are
//! summarized (the attached bundle and the lookup page have them all).

use super::{
    font::{Face, Fonts},
    model::{Certificate, Provable, RevocationStatus},
    qr,
};

/// A4 width and height, in points.
pub(crate) const PAGE_W: f32 = 595.28;
/// A4 height.
pub(crate) const PAGE_H: f32 = 841.89;
/// Page margin.
pub(crate) const MARGIN: f32 = 40.0;
/// The QR code's side.
const QR_SIDE: f32 = 112.0;
/// Where the value column starts.
const VALUE_X: f32 = MARGIN + 136.0;
/// Row height.
const ROW: f32 = 12.6;
/// Label and value size.
const SIZE: f32 = 8.4;
/// Hex values (66 characters must fit the value column).
const MONO: f32 = 8.0;
/// Where the "how to check" footer starts (its height is fixed).
const FOOTER_TOP: f32 = PAGE_H - MARGIN - 84.0;

/// An sRGB colour.
pub(crate) type Rgb = (u8, u8, u8);
const INK: Rgb = (25, 25, 30);
const GREY: Rgb = (95, 95, 105);
const ACCENT: Rgb = (18, 62, 128);
const GOOD: Rgb = (18, 110, 50);
const BAD: Rgb = (170, 20, 20);

/// One thing on the page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// A single-line text run.
    Text {
        /// Left edge.
        x: f32,
        /// Baseline.
        y: f32,
        /// Font size.
        size: f32,
        /// Face.
        face: Face,
        /// Colour.
        color: Rgb,
        /// The text.
        text: String,
        /// Its measured width.
        width: f32,
    },
    /// A filled rectangle (QR modules, rules).
    Rect {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Colour.
        color: Rgb,
    },
}

/// The laid-out page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    /// Everything to draw, in order.
    pub(crate) items: Vec<Item>,
}

struct Builder<'a> {
    fonts: &'a Fonts,
    items: Vec<Item>,
    y: f32,
}

impl Builder<'_> {
    fn text(&mut self, x: f32, y: f32, size: f32, face: Face, color: Rgb, text: &str) -> f32 {
        let width = self.fonts.width(face, text, size);
        self.items.push(Item::Text {
            x,
            y,
            size,
            face,
            color,
            text: text.to_owned(),
            width,
        });
        width
    }

    /// `text` in at most `max` points: smaller down to 6 pt, then cut with "…".
    fn fitted(
        &mut self,
        (x, y): (f32, f32),
        (size, face, color): (f32, Face, Rgb),
        text: &str,
        max: f32,
    ) -> f32 {
        let mut s = size;
        while s > 6.0 && self.fonts.width(face, text, s) > max {
            s -= 0.25;
        }
        if self.fonts.width(face, text, s) <= max {
            return self.text(x, y, s, face, color, text);
        }
        let mut cut: String = text.to_owned();
        while !cut.is_empty() && self.fonts.width(face, &format!("{cut}…"), s) > max {
            cut.pop();
        }
        self.text(x, y, s, face, color, &format!("{cut}…"))
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        self.items.push(Item::Rect { x, y, w, h, color });
    }

    /// A section heading: English, Chinese, and a rule under them.
    fn heading(&mut self, en: &str, zh: &str) {
        self.y += 6.0;
        let w = self.text(MARGIN, self.y, 10.5, Face::Text, ACCENT, en);
        self.text(MARGIN + w + 6.0, self.y, 10.5, Face::Text, ACCENT, zh);
        self.rect(MARGIN, self.y + 3.5, PAGE_W - 2.0 * MARGIN, 0.6, ACCENT);
        self.y += ROW + 3.0;
    }

    /// A row: the bilingual label, then the value (in `face`, `color`).
    fn row(&mut self, en: &str, zh: &str, value: &str, face: Face, color: Rgb) {
        if !en.is_empty() {
            let w = self.text(MARGIN, self.y, SIZE, Face::Text, GREY, en);
            self.text(MARGIN + w + 4.0, self.y, SIZE, Face::Text, GREY, zh);
        }
        let size = if face == Face::Mono { MONO } else { SIZE };
        self.fitted(
            (VALUE_X, self.y),
            (size, face, color),
            value,
            PAGE_W - MARGIN - VALUE_X,
        );
        self.y += ROW;
    }

    /// Wrapped prose across the page, `size` points, lines `lead` apart.
    fn paragraph(&mut self, text: &str, size: f32, lead: f32, color: Rgb) {
        for line in wrap(self.fonts, text, size, PAGE_W - 2.0 * MARGIN) {
            self.text(MARGIN, self.y, size, Face::Text, color, &line);
            self.y += lead;
        }
    }
}

/// Greedy line breaking: Latin words stay whole, Chinese breaks between characters.
pub(crate) fn wrap(fonts: &Fonts, text: &str, size: f32, max: f32) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        let cjk = !c.is_ascii();
        match tokens.last_mut() {
            Some(t)
                if !cjk && !t.ends_with(' ') && t.chars().last().is_some_and(|p| p.is_ascii()) =>
            {
                t.push(c)
            }
            _ => tokens.push(c.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for t in tokens {
        let candidate = format!("{line}{t}");
        if !line.is_empty() && fonts.width(Face::Text, candidate.trim_end(), size) > max {
            lines.push(line.trim_end().to_owned());
            line = t.trim_start().to_owned();
        } else {
            line = candidate;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// Rows one provable chain takes with `members` members listed.
fn rows_of(p: &Provable, members: usize) -> usize {
    let set = p.set.as_ref().map_or(0, |s| {
        1 + s.members.len().min(members) + usize::from(s.members.len() > members)
    });
    1 + 2 + usize::from(p.mirror_tx.is_some()) + set + usize::from(p.note.is_some())
}

/// Lays out `cert`.
pub(crate) fn layout(cert: &Certificate, fonts: &Fonts) -> Result<Page, String> {
    let mut b = Builder {
        fonts,
        items: Vec::new(),
        y: MARGIN + 22.0,
    };
    // Title, issuer line, QR code.
    let w = b.text(MARGIN, b.y, 22.0, Face::Text, INK, "Evidence Certificate");
    b.text(MARGIN + w + 10.0, b.y, 22.0, Face::Text, INK, "存证证书");
    b.y += 20.0;
    for issued in [
        format!("Issued by Evidence Bridge on {} (UTC)", cert.issued_at),
        format!(
            "由 Evidence Bridge 签发，签发时间 {}（协调世界时）",
            cert.issued_at
        ),
    ] {
        b.text(MARGIN, b.y, SIZE, Face::Text, GREY, &issued);
        b.y += ROW;
    }
    b.y -= ROW;
    b.y += ROW + 4.0;
    let intro_w = PAGE_W - 2.0 * MARGIN - QR_SIDE - 14.0;
    for line in wrap(
        fonts,
        "This certificate records that a document with the digest below was anchored on a blockchain and is provable on the chains listed. The proof bundle attached to this PDF proves it offline.",
        SIZE,
        intro_w,
    ) {
        b.text(MARGIN, b.y, SIZE, Face::Text, INK, &line);
        b.y += ROW - 1.0;
    }
    for line in wrap(
        fonts,
        "本证书证明：下列摘要对应的文档已在区块链上存证，并可在所列各链上验证。本 PDF 附带的证明包可离线证明这一点。",
        SIZE,
        intro_w,
    ) {
        b.text(MARGIN, b.y, SIZE, Face::Text, INK, &line);
        b.y += ROW - 1.0;
    }
    let (modules, runs) = qr::runs(&cert.lookup_url)?;
    // Four modules of quiet zone on every side, inside the square.
    let unit = QR_SIDE / (modules + 8) as f32;
    let (qx, qy) = (PAGE_W - MARGIN - QR_SIDE, MARGIN - 4.0);
    for r in &runs {
        b.rect(
            qx + (r.x + 4) as f32 * unit,
            qy + (r.y + 4) as f32 * unit,
            r.len as f32 * unit,
            unit,
            (0, 0, 0),
        );
    }
    let caption_y = qy + QR_SIDE + 8.0;
    for (i, caption) in ["Scan to check online", "扫码在线查验"].iter().enumerate() {
        let cw = fonts.width(Face::Text, caption, 7.5);
        b.text(
            qx + (QR_SIDE - cw) / 2.0,
            caption_y + i as f32 * 9.5,
            7.5,
            Face::Text,
            GREY,
            caption,
        );
    }
    b.y = b.y.max(caption_y + 14.0);

    b.heading("Document", "存证文档");
    b.row("Digest", "摘要", &cert.digest.to_string(), Face::Mono, INK);
    b.row("Algorithm", "算法", &cert.digest_alg, Face::Text, INK);
    if !cert.kind.is_empty() {
        b.row("Kind", "类型", &cert.kind, Face::Text, INK);
    }
    b.row(
        "Record id",
        "记录编号",
        &cert.record_id.to_string(),
        Face::Mono,
        INK,
    );

    let a = &cert.anchored;
    b.heading("Anchored", "上链存证");
    b.row(
        "Chain",
        "链",
        &format!("{} ({}), adapter {}", a.chain_name, a.chain_id, a.adapter),
        Face::Text,
        INK,
    );
    b.row(
        "Block, time",
        "区块与时间",
        &format!("block {} at {} (block time)", a.block, a.time),
        Face::Text,
        INK,
    );
    b.row("Transaction", "交易", &a.tx.to_string(), Face::Mono, INK);
    b.row(
        "Submitter",
        "提交者",
        &a.submitter.to_string(),
        Face::Mono,
        INK,
    );

    // The space the chains may take: what is left above the fixed rows below them
    // (revocation, timestamps: heading + at least two rows each) and the footer.
    let tail = 2.0 * (ROW + 9.0) + ROW * (3.0 + cert.timestamps.len().max(2) as f32);
    let budget = ((FOOTER_TOP - tail - b.y - (ROW + 9.0)) / ROW)
        .floor()
        .max(0.0) as usize;
    let mut members = cert
        .provable
        .iter()
        .filter_map(|p| p.set.as_ref())
        .map(|s| s.members.len())
        .max()
        .unwrap_or(0);
    let fits = |members: usize, chains: usize| -> bool {
        let cut = usize::from(chains < cert.provable.len());
        cert.provable
            .iter()
            .take(chains)
            .map(|p| rows_of(p, members))
            .sum::<usize>()
            + cut
            <= budget
    };
    while members > 3 && !fits(members, cert.provable.len()) {
        members -= 1;
    }
    let mut chains = cert.provable.len();
    while chains > 1 && !fits(members, chains) {
        chains -= 1;
    }
    b.heading("Provable on", "可验证于");
    for p in cert.provable.iter().take(chains) {
        let w = b.text(
            MARGIN,
            b.y,
            9.5,
            Face::Text,
            INK,
            &format!("{} ({})", p.chain_name, p.chain_id),
        );
        if p.embedded {
            b.text(
                MARGIN + w + 8.0,
                b.y,
                SIZE,
                Face::Text,
                GOOD,
                "proof attached to this PDF · 证明已附于本 PDF",
            );
        }
        b.y += ROW;
        b.row(
            "Checkpoint",
            "检查点",
            &format!("log size {}", p.checkpoint_size),
            Face::Text,
            INK,
        );
        b.row(
            "Root",
            "根哈希",
            &p.checkpoint_root
                .map_or_else(|| "not recorded".to_owned(), |r| r.to_string()),
            Face::Mono,
            INK,
        );
        if let Some((tx, block)) = p.mirror_tx {
            let value = match block {
                Some(n) => format!("{tx} (block {n})"),
                None => tx.to_string(),
            };
            b.row("Mirror tx", "镜像交易", &value, Face::Mono, INK);
        }
        if let Some(s) = &p.set {
            b.row(
                "Attestor set",
                "见证人集合",
                &format!(
                    "version {}, {} of {} must sign; {} signed",
                    s.version,
                    s.threshold,
                    s.members.len(),
                    s.signers.len()
                ),
                Face::Text,
                INK,
            );
            for m in s.members.iter().take(members) {
                let signed = s.signers.contains(m);
                b.fitted(
                    (VALUE_X, b.y),
                    (MONO, Face::Mono, INK),
                    &m.to_string(),
                    220.0,
                );
                let (mark, color) = if signed {
                    ("signed · 已签名", GOOD)
                } else {
                    ("did not sign · 未签名", GREY)
                };
                b.text(VALUE_X + 228.0, b.y, SIZE, Face::Text, color, mark);
                b.y += ROW;
            }
            if s.members.len() > members {
                b.row(
                    "",
                    "",
                    &format!(
                        "… and {} more members (all in the attached bundle) · 其余成员见附带证明包",
                        s.members.len() - members
                    ),
                    Face::Text,
                    GREY,
                );
            }
        }
        if let Some(note) = &p.note {
            b.row(
                "",
                "",
                &format!("attestor set not shown: {note}"),
                Face::Text,
                GREY,
            );
        }
    }
    if chains < cert.provable.len() {
        let rest: Vec<&str> = cert.provable[chains..]
            .iter()
            .map(|p| p.chain_name.as_str())
            .collect();
        b.row(
            "",
            "",
            &format!(
                "also provable on {} (see the lookup page) · 另可验证于 {}",
                rest.join(", "),
                rest.join("、")
            ),
            Face::Text,
            GREY,
        );
    }

    b.heading("Revocation", "撤销状态");
    match &cert.revocation {
        RevocationStatus::NotRevoked => {
            b.row("Status", "状态", "not revoked · 未撤销", Face::Text, GOOD)
        }
        RevocationStatus::Revoked { by, proven } => {
            b.row("Status", "状态", "REVOKED · 已撤销", Face::Text, BAD);
            let how = if *proven {
                "the revocation is proven in the attached bundle · 撤销已在附带证明包中证明"
            } else {
                "revoked on the source chain; not yet provable here · 已在源链撤销，尚不能在此证明"
            };
            b.row("Revoked by", "撤销记录", &by.to_string(), Face::Mono, BAD);
            b.row("", "", how, Face::Text, BAD);
        }
    }

    b.heading("Trusted timestamp (RFC 3161)", "可信时间戳");
    if cert.timestamps.is_empty() {
        b.row(
            "Time",
            "时间",
            "no trusted timestamp in this bundle",
            Face::Text,
            GREY,
        );
        b.row("", "", "本证明包中没有可信时间戳", Face::Text, GREY);
    } else {
        for t in &cert.timestamps {
            b.row(
                "Time",
                "时间",
                &format!("{} by {}", t.time, t.tsa),
                Face::Text,
                INK,
            );
        }
    }

    b.y = b.y.max(FOOTER_TOP);
    b.heading("How to check", "如何查验");
    b.paragraph(
        "The proof bundle proof-bundle.json is attached to this PDF. Check it offline, without this node: bridge verify certificate.pdf --offline --trust trust.json (exit code 0: valid). Or scan the QR code, or open:",
        7.6,
        9.6,
        INK,
    );
    b.paragraph("本 PDF 附带证明包 proof-bundle.json，无需本节点即可离线查验：bridge verify certificate.pdf --offline --trust trust.json（退出码 0 表示有效）。或扫描二维码，或打开：", 7.6, 9.6, INK);
    b.fitted(
        (MARGIN, b.y),
        (7.2, Face::Mono, ACCENT),
        &cert.lookup_url,
        PAGE_W - 2.0 * MARGIN,
    );
    if b.y > PAGE_H - MARGIN + 8.0 {
        return Err(format!(
            "the certificate does not fit one page (ends at {:.0} pt); this is a bug",
            b.y
        ));
    }
    Ok(Page { items: b.items })
}

#[cfg(test)]
pub(crate) mod tests {
    use alloy::primitives::{Address, B256};
    use evidence_schemas::ChainId;

    use super::*;
    use crate::certificate::model::{Anchored, AttestorSet, TsaTime};

    fn fonts() -> Fonts {
        Fonts::load(std::path::Path::new(crate::certificate::font::DEFAULT_FONT)).unwrap()
    }

    pub(crate) fn sample(chains: usize, members: usize) -> Certificate {
        let provable = (0..chains)
            .map(|i| Provable {
                chain_name: format!("chain-{i}"),
                chain_id: ChainId::eip155(40_000 + i as u64),
                checkpoint_size: 12,
                checkpoint_root: Some(B256::repeat_byte(0x11)),
                mirror_tx: Some((B256::repeat_byte(0x22), Some(99))),
                set: Some(AttestorSet {
                    version: 1,
                    threshold: 2,
                    members: (0..members)
                        .map(|m| Address::repeat_byte(m as u8 + 1))
                        .collect(),
                    signers: (0..members.min(2))
                        .map(|m| Address::repeat_byte(m as u8 + 1))
                        .collect(),
                }),
                note: None,
                embedded: i == 0,
            })
            .collect();
        Certificate {
            record_id: B256::repeat_byte(0xee),
            digest: B256::repeat_byte(0xdd),
            digest_alg: "SHA-256".into(),
            kind: "iou".into(),
            anchored: Anchored {
                chain_name: "alpha".into(),
                chain_id: ChainId::eip155(31337),
                block: 7,
                time: "2026-12-01T12:00:00Z".into(),
                tx: B256::repeat_byte(0x33),
                submitter: Address::repeat_byte(0x44),
                adapter: "registry".into(),
            },
            provable,
            revocation: RevocationStatus::NotRevoked,
            timestamps: Vec::new(),
            lookup_url: format!("http://127.0.0.1:8080/?digest={}", B256::repeat_byte(0xdd)),
            issued_at: "2026-12-01T12:34:56Z".into(),
        }
    }

    fn texts(page: &Page) -> Vec<(f32, f32, f32, f32, String)> {
        page.items
            .iter()
            .filter_map(|i| match i {
                Item::Text {
                    x,
                    y,
                    size,
                    width,
                    text,
                    ..
                } => Some((
                    *x,
                    *y - size * 0.8,
                    *x + width,
                    *y + size * 0.2,
                    text.clone(),
                )),
                Item::Rect { .. } => None,
            })
            .collect()
    }

    /// Everything on the page, nothing outside the margins, no two texts overlapping.
    fn assert_clean(page: &Page) {
        let t = texts(page);
        for (l, top, r, bottom, text) in &t {
            assert!(
                *l >= MARGIN - 0.01 && *r <= PAGE_W - MARGIN + 0.01,
                "{text:?} leaves the margins ({l}..{r})"
            );
            assert!(
                *top >= MARGIN - 12.0 && *bottom <= PAGE_H - MARGIN + 8.0,
                "{text:?} leaves the page ({top}..{bottom})"
            );
        }
        for (i, a) in t.iter().enumerate() {
            for b in &t[i + 1..] {
                let overlap =
                    a.0 < b.2 - 0.5 && b.0 < a.2 - 0.5 && a.1 < b.3 - 0.5 && b.1 < a.3 - 0.5;
                assert!(!overlap, "{:?} overlaps {:?}", a.4, b.4);
            }
        }
        // The QR code (rects) stays clear of every text.
        for item in &page.items {
            if let Item::Rect { x, y, w, h, .. } = item
                && *h > 1.0
            {
                for (l, top, r, bottom, text) in &t {
                    let overlap = *x < *r && *l < x + w && *y < *bottom && *top < y + h;
                    assert!(!overlap, "{text:?} overlaps the QR code");
                }
            }
        }
    }

    #[test]
    fn a_typical_certificate_is_bilingual_complete_and_clean() {
        let fonts = fonts();
        let mut cert = sample(2, 3);
        cert.timestamps.push(TsaTime {
            tsa: "devnet TSA".into(),
            time: "2026-12-01T12:00:03Z".into(),
        });
        let page = layout(&cert, &fonts).unwrap();
        assert_clean(&page);
        let all: String = texts(&page)
            .into_iter()
            .map(|t| t.4)
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            &cert.digest.to_string(),
            &cert.record_id.to_string(),
            "chain-0",
            "chain-1",
            "存证证书",
            "可验证于",
            "未撤销",
            "2026-12-01T12:00:03Z by devnet TSA",
            &cert.lookup_url,
            &Address::repeat_byte(3).to_string(),
            "did not sign",
        ] {
            assert!(all.contains(needle), "the page lacks {needle:?}:\n{all}");
        }
        assert!(
            fonts.covers(Face::Text, &all.replace('\n', "")),
            "a glyph is missing"
        );
    }

    #[test]
    fn no_timestamp_and_a_revocation_are_said_plainly() {
        let mut cert = sample(1, 3);
        cert.revocation = RevocationStatus::Revoked {
            by: B256::repeat_byte(0x99),
            proven: false,
        };
        let page = layout(&cert, &fonts()).unwrap();
        assert_clean(&page);
        let all: String = texts(&page)
            .into_iter()
            .map(|t| t.4)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            all.contains("no trusted timestamp in this bundle")
                && all.contains("本证明包中没有可信时间戳"),
            "{all}"
        );
        assert!(
            all.contains("REVOKED") && all.contains("not yet provable here"),
            "{all}"
        );
    }

    #[test]
    fn many_chains_and_members_still_fit_one_page() {
        for (chains, members) in [(1, 255), (8, 7), (40, 40)] {
            let cert = sample(chains, members);
            let page = layout(&cert, &fonts()).unwrap();
            assert_clean(&page);
            let all: String = texts(&page)
                .into_iter()
                .map(|t| t.4)
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                all.contains("chain-0") && all.contains("proof attached"),
                "{all}"
            );
            if members > 7 {
                assert!(all.contains("more members"), "{chains}/{members}: {all}");
            }
            if chains > 4 {
                assert!(
                    all.contains("also provable on"),
                    "{chains}/{members}: {all}"
                );
            }
        }
    }

    #[test]
    fn wrapping_keeps_words_and_breaks_chinese() {
        let fonts = fonts();
        let lines = wrap(&fonts, "alpha beta gamma delta epsilon", 10.0, 60.0);
        assert!(
            lines.len() > 1
                && lines
                    .iter()
                    .all(|l| !l.starts_with(' ') && !l.ends_with(' ')),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), "alpha beta gamma delta epsilon");
        let zh = wrap(
            &fonts,
            "本证书证明下列摘要对应的文档已在区块链上存证",
            10.0,
            50.0,
        );
        assert!(
            zh.len() > 3 && zh.iter().all(|l| fonts.width(Face::Text, l, 10.0) <= 50.0),
            "{zh:?}"
        );
        assert_eq!(zh.concat(), "本证书证明下列摘要对应的文档已在区块链上存证");
    }
}
