//! The QR code: the `qrcode` crate's module matrix, as rectangles to draw (runs of dark
//! modules in a row merged into one rectangle, so the PDF stays small and renders
//! crisply at any zoom).

use qrcode::{Color, EcLevel, QrCode};

/// A dark rectangle, in modules from the top-left of the symbol (quiet zone excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    /// Column of the first module.
    pub(crate) x: usize,
    /// Row.
    pub(crate) y: usize,
    /// Modules in the run.
    pub(crate) len: usize,
}

/// The symbol of `text`: its width in modules and its dark runs. Error correction M
/// (15 % of the symbol may be lost and it still reads).
pub(crate) fn runs(text: &str) -> Result<(usize, Vec<Run>), String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| {
        format!("the lookup URL cannot be put in a QR code ({e}); use a shorter [api] public_url")
    })?;
    let width = code.width();
    let colors = code.to_colors();
    let mut out = Vec::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                out.push(Run {
                    x: start,
                    y,
                    len: x - start,
                });
            } else {
                x += 1;
            }
        }
    }
    Ok((width, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runs_cover_exactly_the_dark_modules() {
        let text = "http://127.0.0.1:8080/?digest=0xabababababababababababababababababababababababababababababababab";
        let (width, runs) = runs(text).unwrap();
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        assert_eq!(width, code.width());
        let mut painted = vec![false; width * width];
        for r in &runs {
            assert!(r.len > 0 && r.x + r.len <= width && r.y < width, "{r:?}");
            for x in r.x..r.x + r.len {
                assert!(!painted[r.y * width + x], "module painted twice");
                painted[r.y * width + x] = true;
            }
        }
        let dark: Vec<bool> = code.to_colors().iter().map(|c| *c == Color::Dark).collect();
        assert_eq!(painted, dark);
        // Finder pattern: the top-left 7-module run.
        assert_eq!(runs[0], Run { x: 0, y: 0, len: 7 });
    }

    #[test]
    fn an_overlong_url_is_a_clear_error() {
        let e = runs(&"x".repeat(5000)).unwrap_err();
        assert!(e.contains("public_url"), "{e}");
    }
}
