//! The certificate's font: one CJK font from Debian's packages, embedded and subset by
//! the PDF writer.
//!
//! Found at, in this order: the environment variable [`FONT_ENV`], the config's
//! `[certificate] font`, then [`DEFAULT_FONT`] (Debian's `fonts-wqy-microhei`, installed
//! by `deploy/scripts/install-tools.sh`). The file may be a TrueType collection: face 0
//! sets the text, face 1 (WenQuanYi Micro Hei Mono in the default file) the digests and
//! addresses; a single-face file sets both. A missing or unreadable font is a clear
//! error naming the path and the package.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

use krilla::text::Font;
use skrifa::{
    FontRef, MetadataProvider,
    instance::LocationRef,
    raw::{FileRef, TableProvider},
};

/// Environment variable naming the font file (overrides the config).
pub(crate) const FONT_ENV: &str = "BRIDGE_CERT_FONT";

/// Where Debian's `fonts-wqy-microhei` puts its collection.
pub(crate) const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// The largest font file read (a CJK collection is a few MiB; 64 MiB is none).
const MAX_FONT_BYTES: u64 = 64 * 1024 * 1024;

/// The two faces of the certificate and their metrics.
#[derive(Clone)]
pub(crate) struct Fonts {
    data: Arc<Vec<u8>>,
    /// Face index of the text face and of the monospace face.
    faces: [u32; 2],
    /// The file it came from (for messages).
    pub(crate) path: PathBuf,
}

/// Which face a string is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    /// Labels and prose, Latin and Chinese.
    Text,
    /// Digests, ids, addresses.
    Mono,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("path", &self.path)
            .field("faces", &self.faces)
            .finish()
    }
}

/// The font file to use: `BRIDGE_CERT_FONT`, else `configured`, else [`DEFAULT_FONT`].
pub(crate) fn font_path(configured: Option<&Path>) -> PathBuf {
    match std::env::var_os(FONT_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => configured.map_or_else(|| PathBuf::from(DEFAULT_FONT), Path::to_path_buf),
    }
}

impl Fonts {
    /// Reads and checks the font at `path` (it must set Latin and Chinese text).
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let hint = format!(
            "install Debian's fonts-wqy-microhei (deploy/scripts/install-tools.sh does), or point {FONT_ENV} or [certificate] font at a TrueType/OpenType font with Chinese glyphs"
        );
        let meta = std::fs::metadata(path).map_err(|e| {
            format!(
                "the certificate font {} cannot be read ({e}); {hint}",
                path.display()
            )
        })?;
        if meta.len() > MAX_FONT_BYTES {
            return Err(format!(
                "the certificate font {} is larger than 64 MiB: not a font; {hint}",
                path.display()
            ));
        }
        let data = std::fs::read(path).map_err(|e| {
            format!(
                "the certificate font {} cannot be read ({e}); {hint}",
                path.display()
            )
        })?;
        let count = match FileRef::new(&data) {
            Ok(FileRef::Font(_)) => 1,
            Ok(FileRef::Collection(c)) => c.len(),
            Err(e) => {
                return Err(format!(
                    "{} is not a TrueType/OpenType font or collection ({e}); {hint}",
                    path.display()
                ));
            }
        };
        let faces = [0, u32::from(count > 1)];
        let fonts = Self {
            data: Arc::new(data),
            faces,
            path: path.to_path_buf(),
        };
        for face in [Face::Text, Face::Mono] {
            let font = fonts.face_ref(face).ok_or_else(|| {
                format!(
                    "{}: face {} cannot be read; {hint}",
                    path.display(),
                    fonts.index(face)
                )
            })?;
            let charmap = font.charmap();
            if let Some(c) = "证书A0".chars().find(|c| charmap.map(*c).is_none()) {
                return Err(format!(
                    "the certificate font {} has no glyph for {c:?}; {hint}",
                    path.display()
                ));
            }
        }
        Ok(fonts)
    }

    /// [`Fonts::load`] once per path for the life of the process (the API renders many
    /// certificates; the default file is 5 MiB).
    pub(crate) fn cached(path: &Path) -> Result<Self, String> {
        static CACHE: OnceLock<Mutex<Vec<Fonts>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
        if let Ok(c) = cache.lock()
            && let Some(f) = c.iter().find(|f| f.path == path)
        {
            return Ok(f.clone());
        }
        let fonts = Self::load(path)?;
        if let Ok(mut c) = cache.lock() {
            c.push(fonts.clone());
        }
        Ok(fonts)
    }

    fn index(&self, face: Face) -> u32 {
        self.faces[usize::from(face == Face::Mono)]
    }

    fn face_ref(&self, face: Face) -> Option<FontRef<'_>> {
        FontRef::from_index(self.data.as_slice(), self.index(face)).ok()
    }

    /// The face as the PDF writer's font.
    pub(crate) fn krilla(&self, face: Face) -> Option<Font> {
        Font::new(self.data.clone().into(), self.index(face))
    }

    /// The advance width of `text` set in `face` at `size` points (no kerning: what the
    /// writer's simple shaping of these scripts gives, to within a hair).
    pub(crate) fn width(&self, face: Face, text: &str, size: f32) -> f32 {
        let Some(font) = self.face_ref(face) else {
            return 0.0;
        };
        let upem = font.head().map_or(1000.0, |h| f32::from(h.units_per_em()));
        let charmap = font.charmap();
        let metrics =
            font.glyph_metrics(skrifa::instance::Size::unscaled(), LocationRef::default());
        let units: f32 = text
            .chars()
            .map(|c| {
                metrics
                    .advance_width(charmap.map(c).unwrap_or_default())
                    .unwrap_or(0.0)
            })
            .sum();
        units * size / upem
    }

    /// Whether every character of `text` has a glyph in `face`.
    #[cfg(test)]
    pub(crate) fn covers(&self, face: Face, text: &str) -> bool {
        self.face_ref(face).is_some_and(|f| {
            let charmap = f.charmap();
            text.chars()
                .all(|c| c.is_whitespace() || charmap.map(c).is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_font_names_the_path_and_the_package() {
        let e = Fonts::load(Path::new("/nonexistent/font.ttc")).unwrap_err();
        assert!(
            e.contains("/nonexistent/font.ttc")
                && e.contains("fonts-wqy-microhei")
                && e.contains(FONT_ENV),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.ttf");
        std::fs::write(&junk, b"not a font at all").unwrap();
        let e = Fonts::load(&junk).unwrap_err();
        assert!(e.contains("not a TrueType/OpenType font"), "{e}");
    }

    #[test]
    fn the_default_font_sets_chinese_and_a_narrower_mono_latin() {
        let fonts = Fonts::load(Path::new(DEFAULT_FONT)).unwrap();
        assert!(fonts.covers(Face::Text, "存证证书 Evidence certificate"));
        assert!(fonts.covers(Face::Mono, "0x0123456789abcdef"));
        // Monospace: every hex digit has the same advance.
        let one = fonts.width(Face::Mono, "0", 10.0);
        assert!(one > 3.0 && one < 7.0, "{one}");
        assert!((fonts.width(Face::Mono, "0xabcdef", 10.0) - 8.0 * one).abs() < 0.01);
        // A Chinese character is about one em wide.
        let han = fonts.width(Face::Text, "证", 10.0);
        assert!((8.0..=11.0).contains(&han), "{han}");
    }
}
