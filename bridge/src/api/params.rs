//! Parsers of the API's page parameters, shared by the handlers and the fuzz targets
//! (`bridge/src/lib.rs`): they return the message of the `400` answer.

use evidence_relayer::pages::QuarantineCursor;

/// Items per page when `limit` is absent.
pub(crate) const DEFAULT_LIMIT: u64 = 50;
/// The largest `limit`.
pub(crate) const MAX_LIMIT: u64 = 500;

/// `limit`: absent → the default; else a whole number from 1 to [`MAX_LIMIT`].
pub(crate) fn page_limit(text: Option<&str>) -> Result<u64, String> {
    let Some(text) = text else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.parse::<u64>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "limit {text:?}: use a whole number from 1 to {MAX_LIMIT}"
        )),
    }
}

/// `before` of the checkpoint pages: a checkpoint size.
pub(crate) fn size_cursor(text: &str) -> Result<u64, String> {
    text.parse::<u64>().map_err(|_| {
        format!(
            "before {text:?}: use the `next_before` value (a checkpoint size) of the previous page"
        )
    })
}

/// `before` of the quarantine pages: `BLOCK-LOG_INDEX`.
pub(crate) fn quarantine_cursor(text: &str) -> Result<QuarantineCursor, String> {
    let bad = || {
        format!(
            "before {text:?}: use the `next_before` value (BLOCK-LOG_INDEX) of the previous page"
        )
    };
    let (block, log) = text.split_once('-').ok_or_else(bad)?;
    Ok(QuarantineCursor {
        block_number: block.parse().map_err(|_| bad())?,
        log_index: log.parse().map_err(|_| bad())?,
    })
}
