//! Finds the PEM blocks in a text and decodes them; what each block means is the caller's business.
//!
//! The scanner is deliberately forgiving about layout, because CA bundles are pasted by hand
//! into ConfigMaps: it reads markers wherever they are, so a byte-order mark, CRLF or mixed line
//! ends, indentation, blank lines and any text between blocks need no special handling, and a
//! block squeezed onto one line (`-----BEGIN CERTIFICATE----- MIIB... -----END CERTIFICATE-----`)
//! still reads. Inside a block, all whitespace is dropped before decoding (padded base64, as
//! every PEM writer produces), and RFC 1421 header lines (`Proc-Type: ...`, `DEK-Info: ...`:
//! any line with a `:` before the base64 starts) are skipped, so a legacy encrypted key still
//! comes out as a block with its label rather than as a base64 error.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// One decoded `-----BEGIN <label>-----` ... `-----END <label>-----` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The text between `BEGIN ` and the closing dashes, e.g. `CERTIFICATE`.
    pub label: String,
    /// The decoded body.
    pub der: Vec<u8>,
}

/// A block that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemError {
    /// A `BEGIN` marker with no `END` before the next `BEGIN` or the end of the text.
    UnterminatedBlock {
        /// Label of the `BEGIN` marker.
        label: String,
    },
    /// The `END` marker names another label than its `BEGIN`.
    MismatchedEnd {
        /// Label of the `BEGIN` marker.
        begin: String,
        /// Label of the `END` marker.
        end: String,
    },
    /// An `END` marker with no `BEGIN` before it, as when the first line of a block was lost.
    UnexpectedEnd {
        /// Label of the `END` marker.
        label: String,
    },
    /// The body is not valid base64.
    BadBase64 {
        /// Label of the block.
        label: String,
    },
}

impl PemError {
    /// The label the broken block announced, so that callers can still judge it by its type.
    pub fn label(&self) -> &str {
        match self {
            Self::UnterminatedBlock { label }
            | Self::MismatchedEnd { begin: label, .. }
            | Self::UnexpectedEnd { label }
            | Self::BadBase64 { label } => label,
        }
    }
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnterminatedBlock { label } => {
                write!(
                    f,
                    "-----BEGIN {label}----- has no matching -----END {label}-----"
                )
            }
            Self::MismatchedEnd { begin, end } => {
                write!(
                    f,
                    "-----BEGIN {begin}----- is closed by -----END {end}-----"
                )
            }
            Self::UnexpectedEnd { label } => {
                write!(
                    f,
                    "-----END {label}----- has no -----BEGIN {label}----- before it"
                )
            }
            Self::BadBase64 { label } => {
                write!(f, "the body of the {label} block is not valid base64")
            }
        }
    }
}

/// Blocks in text order; each entry is one block, read or broken, so that its index + 1 is the
/// block number a person would count. Empty or whitespace-only text gives no entries.
pub fn scan(text: &[u8]) -> Vec<Result<PemBlock, PemError>> {
    let mut blocks = Vec::new();
    let mut pos = 0;
    while let Some(found) = next_marker(text, pos) {
        let label = match found.marker {
            Marker::Begin(label) => label,
            Marker::End(label) => {
                blocks.push(Err(PemError::UnexpectedEnd { label }));
                pos = found.after;
                continue;
            }
        };
        // The body runs to the next marker of either kind: a second BEGIN means this block lost
        // its END, and the block that BEGIN opens must still be read on its own.
        match next_marker(text, found.after) {
            Some(Found {
                marker: Marker::End(end),
                start,
                after,
            }) => {
                blocks.push(if end == label {
                    decode(label, &text[found.after..start])
                } else {
                    Err(PemError::MismatchedEnd { begin: label, end })
                });
                pos = after;
            }
            Some(next) => {
                blocks.push(Err(PemError::UnterminatedBlock { label }));
                pos = next.start;
            }
            None => {
                blocks.push(Err(PemError::UnterminatedBlock { label }));
                pos = text.len();
            }
        }
    }
    blocks
}

/// A marker and where it sits in the text.
struct Found {
    marker: Marker,
    /// Offset of its first dash.
    start: usize,
    /// Offset just past its closing dashes.
    after: usize,
}

/// A `BEGIN` or `END` marker with its label.
enum Marker {
    Begin(String),
    End(String),
}

/// The first well-formed marker at or after `from`. A lone `-----BEGIN ` whose closing dashes
/// are not on the same line is prose, not a marker.
fn next_marker(text: &[u8], from: usize) -> Option<Found> {
    let mut at = from;
    while let Some(start) = find(text, DASHES, at) {
        let rest = &text[start..];
        let (prefix, is_begin) = if rest.starts_with(BEGIN) {
            (BEGIN, true)
        } else if rest.starts_with(END) {
            (END, false)
        } else {
            at = start + 1;
            continue;
        };
        let label_start = start + prefix.len();
        // No dashes left means no marker can follow either.
        let label_end = find(text, DASHES, label_start)?;
        let raw = &text[label_start..label_end];
        if raw.iter().any(|&b| b == b'\n' || b == b'\r') {
            at = start + 1;
            continue;
        }
        let label = String::from_utf8_lossy(raw).trim().to_owned();
        let marker = if is_begin {
            Marker::Begin(label)
        } else {
            Marker::End(label)
        };
        return Some(Found {
            marker,
            start,
            after: label_end + DASHES.len(),
        });
    }
    None
}

/// Offset of the first `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| from + offset)
}

/// Decodes a block body: RFC 1421 header lines before the base64 are skipped, and all
/// whitespace inside the base64 is dropped.
fn decode(label: String, body: &[u8]) -> Result<PemBlock, PemError> {
    let mut base64 = Vec::with_capacity(body.len());
    for line in body.split(|&b| b == b'\n' || b == b'\r') {
        if base64.is_empty() && line.contains(&b':') {
            continue;
        }
        base64.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
    }
    match STANDARD.decode(&base64) {
        Ok(der) => Ok(PemBlock { label, der }),
        Err(_) => Err(PemError::BadBase64 { label }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const CA: &str = include_str!("../testdata/certs/ca.pem");
    const CA2: &str = include_str!("../testdata/certs/ca2.pem");

    fn labels(text: &str) -> Vec<Result<String, PemError>> {
        scan(text.as_bytes())
            .into_iter()
            .map(|block| block.map(|b| b.label))
            .collect()
    }

    fn only_der(text: &str) -> Vec<u8> {
        match scan(text.as_bytes()).as_slice() {
            [Ok(block)] => block.der.clone(),
            other => panic!("expected one good block, got {other:?}"),
        }
    }

    fn certificate(text: &str) -> PemBlock {
        PemBlock {
            label: "CERTIFICATE".into(),
            der: only_der(text),
        }
    }

    fn ok(label: &str) -> Result<String, PemError> {
        Ok(label.to_owned())
    }

    #[test]
    fn empty_and_whitespace_only_text_has_no_blocks() {
        assert!(scan(b"").is_empty());
        assert!(scan(b" \r\n\t\n  \n").is_empty());
        assert!(scan("\u{feff}\n".as_bytes()).is_empty());
    }

    #[test]
    fn reads_an_openssl_certificate() {
        let der = only_der(CA);
        assert_eq!(labels(CA), [ok("CERTIFICATE")]);
        assert_eq!(der.first(), Some(&0x30), "DER SEQUENCE");
    }

    #[test]
    fn bom_crlf_and_comments_between_blocks_are_tolerated() {
        let text = format!(
            "\u{feff}# corporate roots\r\nSubject: CN=LLSD Test Root CA\r\n{}\r\n\r\nsome prose -- with dashes\r\n{}",
            CA.replace('\n', "\r\n"),
            CA2
        );
        let blocks = scan(text.as_bytes());
        assert_eq!(blocks, [Ok(certificate(CA)), Ok(certificate(CA2))]);
    }

    #[test]
    fn mixed_line_ends_and_indentation_are_tolerated() {
        let mut text = String::new();
        for (i, line) in CA.lines().enumerate() {
            text.push_str("    ");
            text.push_str(line);
            text.push_str(["\n", "\r\n", "\r", "  \n"][i % 4]);
        }
        assert_eq!(only_der(&text), only_der(CA));
    }

    #[test]
    fn block_on_one_line_is_read() {
        let one_line = CA.replace('\n', " ");
        assert_eq!(only_der(&one_line), only_der(CA));
    }

    #[test]
    fn rfc1421_headers_are_skipped() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\naGVsbG8=\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(only_der(text), b"hello");
    }

    #[test]
    fn unterminated_block_does_not_swallow_the_next_one() {
        let text = format!("-----BEGIN CERTIFICATE-----\nMIIB\n{CA}");
        let unterminated = Err(PemError::UnterminatedBlock {
            label: "CERTIFICATE".into(),
        });
        assert_eq!(labels(&text), [unterminated, ok("CERTIFICATE")]);
    }

    #[test]
    fn block_cut_off_at_end_of_text_is_unterminated() {
        let text = "-----BEGIN CERTIFICATE-----\nMIIB";
        assert_eq!(
            labels(text),
            [Err(PemError::UnterminatedBlock {
                label: "CERTIFICATE".into()
            })]
        );
    }

    #[test]
    fn mismatched_end_is_reported() {
        let text = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END PUBLIC KEY-----\n";
        let error = PemError::MismatchedEnd {
            begin: "CERTIFICATE".into(),
            end: "PUBLIC KEY".into(),
        };
        assert_eq!(labels(text), [Err(error)]);
    }

    #[test]
    fn end_without_begin_is_reported() {
        let text = CA.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(
            labels(&text),
            [Err(PemError::UnexpectedEnd {
                label: "CERTIFICATE".into()
            })]
        );
    }

    #[test]
    fn bad_base64_is_reported() {
        let text = "-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n";
        assert_eq!(
            labels(text),
            [Err(PemError::BadBase64 {
                label: "CERTIFICATE".into()
            })]
        );
    }

    #[test]
    fn begin_without_closing_dashes_is_prose() {
        let text = format!("see -----BEGIN the next block\n{CA}");
        assert_eq!(labels(&text), [ok("CERTIFICATE")]);
    }

    #[test]
    fn errors_read_as_one_line() {
        let error = PemError::MismatchedEnd {
            begin: "CERTIFICATE".into(),
            end: "X509 CRL".into(),
        };
        assert_eq!(
            error.to_string(),
            "-----BEGIN CERTIFICATE----- is closed by -----END X509 CRL-----"
        );
        assert_eq!(error.label(), "CERTIFICATE");
    }

    proptest! {
        #[test]
        fn never_panics_on_marker_soup(pieces in prop::collection::vec(prop_oneof![
            Just("-----BEGIN "), Just("-----END "), Just("-----"), Just("CERTIFICATE"),
            Just("PRIVATE KEY"), Just("MIIB"), Just("aGVsbG8="), Just("Proc-Type: 4"),
            Just("\n"), Just("\r"), Just(" "), Just("\u{feff}"), Just("="), Just("-"),
        ], 0..60)) {
            scan(pieces.concat().as_bytes());
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            scan(&bytes);
        }
    }
}
