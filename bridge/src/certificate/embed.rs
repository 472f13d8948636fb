//! Reading the proof bundle back out of a certificate (or any PDF that attaches one),
//! with `lopdf`, bounded for hostile files.
//!
//! The bundle is the one attached file whose name ends in `.json`: found through the
//! document's `/Names /EmbeddedFiles` name tree and its `/AF` (associated files) array,
//! a file spec counted once however it is reached. None, or several, is an error that
//! says so. Bounds: the PDF is at most 16 MiB (the caller reads it capped, as a bundle file);
//! every stream lopdf decodes while loading, and the bundle itself, at most
//! [`MAX_BUNDLE_BYTES`] decoded; the name tree at most [`MAX_TREE_NODES`] nodes and
//! [`MAX_TREE_DEPTH`] deep (a cycle is cut by the visited set). A parser panic on a
//! malformed file is caught and reported as a malformed PDF.

use std::{collections::BTreeSet, panic::AssertUnwindSafe};

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

/// The largest decoded stream (and bundle) accepted.
pub(crate) const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;

/// Name-tree nodes visited at most.
const MAX_TREE_NODES: usize = 4096;

/// Name-tree depth at most.
const MAX_TREE_DEPTH: usize = 32;

/// Why no bundle came out of a PDF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExtractError {
    /// lopdf could not read the file.
    #[error("not a readable PDF ({0}); is the file complete?")]
    Malformed(String),
    /// No `.json` attachment.
    #[error(
        "the PDF carries no proof bundle (no attached .json file){0}; is it an Evidence Bridge certificate?"
    )]
    NoBundle(String),
    /// More than one.
    #[error("the PDF carries {} attached .json files ({}); a certificate carries exactly one proof bundle", .0.len(), .0.join(", "))]
    Several(Vec<String>),
    /// The attachment cannot be decoded within the bounds.
    #[error("the attached bundle {name} cannot be read: {reason}")]
    Unreadable {
        /// Its name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// The bytes of the one attached proof bundle of `pdf`.
pub(crate) fn extract_bundle(pdf: &[u8]) -> Result<Vec<u8>, ExtractError> {
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_BUNDLE_BYTES),
        ..LoadOptions::default()
    };
    let loaded = std::panic::catch_unwind(AssertUnwindSafe(|| {
        Document::load_mem_with_options(pdf, options)
    }))
    .map_err(|_| ExtractError::Malformed("the PDF parser gave up on it".into()))?;
    let doc = loaded.map_err(|e| ExtractError::Malformed(e.to_string()))?;
    std::panic::catch_unwind(AssertUnwindSafe(|| bundle_of(&doc)))
        .map_err(|_| ExtractError::Malformed("the PDF parser gave up on it".into()))?
}

fn bundle_of(doc: &Document) -> Result<Vec<u8>, ExtractError> {
    let catalog = doc
        .catalog()
        .map_err(|e| ExtractError::Malformed(format!("no document catalog: {e}")))?;
    let mut specs: Vec<(Option<ObjectId>, &Dictionary)> = Vec::new();
    let mut nodes = 0;
    if let Ok(names) = catalog.get_deref(b"Names", doc).and_then(Object::as_dict)
        && let Ok(tree) = names.get_deref(b"EmbeddedFiles", doc)
    {
        let mut visited = BTreeSet::new();
        walk(doc, tree, 0, &mut nodes, &mut visited, &mut specs)?;
    }
    if let Ok(af) = catalog.get_deref(b"AF", doc).and_then(Object::as_array) {
        for spec in af.iter().take(MAX_TREE_NODES) {
            push_spec(doc, spec, &mut specs);
        }
    }
    let mut seen = BTreeSet::new();
    let mut bundles = Vec::new();
    let mut others = Vec::new();
    for (id, spec) in specs {
        if let Some(id) = id
            && !seen.insert(id)
        {
            continue;
        }
        let name = file_name(spec);
        if name.to_ascii_lowercase().ends_with(".json") {
            bundles.push((name, spec));
        } else {
            others.push(name);
        }
    }
    match bundles.len() {
        0 => Err(ExtractError::NoBundle(if others.is_empty() {
            String::new()
        } else {
            format!("; it attaches {}", others.join(", "))
        })),
        1 => {
            let (name, spec) = &bundles[0];
            let unreadable = |reason: String| ExtractError::Unreadable {
                name: name.clone(),
                reason,
            };
            let ef = spec
                .get_deref(b"EF", doc)
                .and_then(Object::as_dict)
                .map_err(|e| unreadable(format!("no /EF entry: {e}")))?;
            let stream = ef
                .get_deref(b"UF", doc)
                .or_else(|_| ef.get_deref(b"F", doc))
                .and_then(Object::as_stream)
                .map_err(|e| unreadable(format!("no embedded file stream: {e}")))?;
            stream
                .get_plain_content_with_limit(MAX_BUNDLE_BYTES)
                .map_err(|e| {
                    unreadable(format!(
                        "{e} (at most {} MiB decoded)",
                        MAX_BUNDLE_BYTES / (1024 * 1024)
                    ))
                })
                .and_then(|bytes| {
                    if bytes.len() > MAX_BUNDLE_BYTES {
                        Err(unreadable(format!(
                            "larger than {} MiB",
                            MAX_BUNDLE_BYTES / (1024 * 1024)
                        )))
                    } else {
                        Ok(bytes)
                    }
                })
        }
        _ => Err(ExtractError::Several(
            bundles.into_iter().map(|(n, _)| n).collect(),
        )),
    }
}

/// Collects the file specs of a name-tree node (its `/Names` pairs and `/Kids`).
fn walk<'a>(
    doc: &'a Document,
    node: &'a Object,
    depth: usize,
    nodes: &mut usize,
    visited: &mut BTreeSet<ObjectId>,
    specs: &mut Vec<(Option<ObjectId>, &'a Dictionary)>,
) -> Result<(), ExtractError> {
    *nodes += 1;
    if depth > MAX_TREE_DEPTH || *nodes > MAX_TREE_NODES {
        return Err(ExtractError::Malformed(format!(
            "its attachment name tree is deeper than {MAX_TREE_DEPTH} or larger than {MAX_TREE_NODES} nodes"
        )));
    }
    let Ok((id, obj)) = doc.dereference(node) else {
        return Ok(());
    };
    if let Some(id) = id
        && !visited.insert(id)
    {
        return Ok(());
    }
    let Ok(dict) = obj.as_dict() else {
        return Ok(());
    };
    if let Ok(names) = dict.get_deref(b"Names", doc).and_then(Object::as_array) {
        for pair in names.chunks(2) {
            if let [_, spec] = pair {
                push_spec(doc, spec, specs);
            }
        }
    }
    if let Ok(kids) = dict.get_deref(b"Kids", doc).and_then(Object::as_array) {
        for kid in kids {
            walk(doc, kid, depth + 1, nodes, visited, specs)?;
        }
    }
    Ok(())
}

fn push_spec<'a>(
    doc: &'a Document,
    spec: &'a Object,
    specs: &mut Vec<(Option<ObjectId>, &'a Dictionary)>,
) {
    if let Ok((id, obj)) = doc.dereference(spec)
        && let Ok(dict) = obj.as_dict()
    {
        specs.push((id, dict));
    }
}

/// A file spec's name (`/UF`, else `/F`), lossily decoded and shortened for messages.
fn file_name(spec: &Dictionary) -> String {
    let raw = spec
        .get(b"UF")
        .or_else(|_| spec.get(b"F"))
        .and_then(Object::as_str)
        .unwrap_or(b"");
    let text = match raw {
        [0xfe, 0xff, rest @ ..] => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(raw).into_owned(),
    };
    let clean: String = text.chars().filter(|c| !c.is_control()).take(80).collect();
    if clean.is_empty() {
        "(unnamed)".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use lopdf::dictionary;

    use super::*;
    use crate::certificate::{Fonts, font, layout, render};

    fn certificate(bundle: &[u8]) -> Vec<u8> {
        let fonts = Fonts::load(std::path::Path::new(font::DEFAULT_FONT)).unwrap();
        render(&layout::tests::sample(1, 3), bundle, &fonts).unwrap()
    }

    #[test]
    fn not_a_pdf_and_a_pdf_without_a_bundle_are_clear_errors() {
        for junk in [
            &b""[..],
            b"%PDF-1.7\n",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        ] {
            let e = extract_bundle(junk).unwrap_err();
            assert!(
                matches!(e, ExtractError::Malformed(_) | ExtractError::NoBundle(_)),
                "{e}"
            );
        }
        // A real PDF (lopdf's own) that attaches nothing.
        let mut doc = Document::with_version("1.7");
        let pages = doc.new_object_id();
        doc.objects.insert(
            pages,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0 },
            ),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        assert!(matches!(
            extract_bundle(&bytes),
            Err(ExtractError::NoBundle(_))
        ));
    }

    #[test]
    fn truncated_and_mutated_certificates_never_panic() {
        let pdf = certificate(br#"{"version":2}"#);
        let mut rng_state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            rng_state ^= rng_state << 13;
            rng_state ^= rng_state >> 7;
            rng_state ^= rng_state << 17;
            rng_state
        };
        for cut in (0..pdf.len()).step_by(pdf.len() / 60 + 1) {
            let _ = extract_bundle(&pdf[..cut]);
        }
        for _ in 0..200 {
            let mut m = pdf.clone();
            for _ in 0..8 {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            if let Ok(b) = extract_bundle(&m) {
                assert!(b.len() <= MAX_BUNDLE_BYTES);
            }
        }
    }

    #[test]
    fn a_second_json_attachment_is_refused() {
        let pdf = certificate(br#"{"version":2}"#);
        let mut doc = Document::load_mem(&pdf).unwrap();
        // Attach a second JSON file spec to /AF.
        let stream = doc.add_object(lopdf::Stream::new(
            dictionary! { "Type" => "EmbeddedFile" },
            b"{}".to_vec(),
        ));
        let ef = dictionary! { "F" => stream };
        let spec = doc.add_object(dictionary! {
            "Type" => "Filespec",
            "F" => Object::string_literal("other.json"),
            "EF" => ef,
        });
        let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
        let catalog = doc.get_dictionary_mut(root).unwrap();
        let mut af = catalog
            .get(b"AF")
            .and_then(Object::as_array)
            .cloned()
            .unwrap_or_default();
        af.push(Object::Reference(spec));
        catalog.set("AF", af);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        match extract_bundle(&bytes) {
            Err(ExtractError::Several(names)) => assert!(
                names.contains(&"other.json".to_owned()) && names.len() == 2,
                "{names:?}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_decompression_bomb_is_refused_within_the_bound() {
        // An attachment that inflates to 48 MiB (three times the bound).
        let mut doc = Document::with_version("1.7");
        let mut bomb = lopdf::Stream::new(
            dictionary! { "Type" => "EmbeddedFile" },
            vec![b' '; 48 * 1024 * 1024],
        );
        bomb.compress().unwrap();
        assert!(bomb.content.len() < 1024 * 1024);
        let stream = doc.add_object(bomb);
        let ef = dictionary! { "F" => stream };
        let spec = doc.add_object(dictionary! { "Type" => "Filespec", "F" => Object::string_literal("proof-bundle.json"), "EF" => ef });
        let pages = doc.add_object(
            dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0 },
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages, "AF" => vec![Object::Reference(spec)] });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        match extract_bundle(&bytes) {
            Err(ExtractError::Unreadable { name, reason }) => {
                assert_eq!(name, "proof-bundle.json");
                assert!(reason.contains("16 MiB"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
