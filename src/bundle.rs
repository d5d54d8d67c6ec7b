//! Judges the CA ConfigMap's certificates and builds the normalised bundle for the managed copy.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use x509_parser::error::X509Error;
use x509_parser::time::ASN1Time;

use crate::names::HASH_PREFIX;
use crate::pem::{self, PemError};

/// Most distinct certificates a user may put in one CA bundle.
pub const MAX_CERTIFICATES: usize = 1000;

/// Largest bundle text, in bytes: the most data a ConfigMap can hold (1 MiB).
pub const MAX_BUNDLE_BYTES: usize = 1024 * 1024;
/// At most this many block errors, and as many block warnings, are told per CA bundle; the rest
/// are counted. A ConfigMap of thousands of broken blocks must not become thousands of results.
pub const MAX_TOLD: usize = 20;

const CERTIFICATE: &str = "CERTIFICATE";

/// The bundle to write into the managed ConfigMap, with what the caller needs to report on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    /// Plain PEM `CERTIFICATE` blocks, 64-column base64, LF line ends, final newline.
    pub pem: String,
    /// `sha256:` and the lowercase hex SHA-256 of `pem`.
    pub sha256: String,
    /// Certificates in `pem`.
    pub count: usize,
    /// Of those, the ones taken from the user's keys; the rest came from `useDefaultCAs`.
    pub user_count: usize,
    /// Problems that do not stop the bundle from being written.
    pub warnings: Vec<Warning>,
}

/// Where a block sits: its ConfigMap key and its 1-based position among the key's PEM blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    /// The ConfigMap key.
    pub key: String,
    /// 1-based block number within the key.
    pub block: usize,
}

impl fmt::Display for BlockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {}, block {}", self.key, self.block)
    }
}

/// A problem that leaves the bundle usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The certificate's notAfter is before now.
    Expired {
        /// Where the certificate is.
        at: BlockRef,
        /// Its subject.
        subject: String,
        /// Its notAfter, RFC 3339 UTC.
        not_after: String,
    },
    /// The certificate's notBefore is after now.
    NotYetValid {
        /// Where the certificate is.
        at: BlockRef,
        /// Its subject.
        subject: String,
        /// Its notBefore, RFC 3339 UTC.
        not_before: String,
    },
    /// basicConstraints is absent or says CA:FALSE.
    NotCa {
        /// Where the certificate is.
        at: BlockRef,
        /// Its subject.
        subject: String,
    },
    /// A PEM block that is neither a certificate nor a private key.
    IgnoredBlock {
        /// Where the block is.
        at: BlockRef,
        /// Its PEM label, e.g. `PUBLIC KEY`.
        label: String,
    },
    /// No user certificate is a public root and no public roots were added.
    PrivateCasOnly,
    /// More block warnings than [`MAX_TOLD`]: how many more.
    Untold {
        /// Warnings not told.
        count: usize,
    },
}

impl Warning {
    /// The block the warning is about, when it is about one.
    pub fn block(&self) -> Option<&BlockRef> {
        match self {
            Self::Expired { at, .. }
            | Self::NotYetValid { at, .. }
            | Self::NotCa { at, .. }
            | Self::IgnoredBlock { at, .. } => Some(at),
            Self::PrivateCasOnly | Self::Untold { .. } => None,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired {
                at,
                subject,
                not_after,
            } => {
                write!(f, "{at}: certificate \"{subject}\" expired on {not_after}")
            }
            Self::NotYetValid {
                at,
                subject,
                not_before,
            } => {
                write!(
                    f,
                    "{at}: certificate \"{subject}\" is not valid before {not_before}"
                )
            }
            Self::NotCa { at, subject } => write!(
                f,
                "{at}: certificate \"{subject}\" is not a CA (no basicConstraints CA:TRUE); \
                 a CA bundle should hold the CAs that issue server certificates"
            ),
            Self::IgnoredBlock { at, label } => write!(
                f,
                "{at}: ignored a {label} block; only CERTIFICATE blocks go into the CA bundle"
            ),
            Self::PrivateCasOnly => f.write_str(
                "the CA bundle holds only private CAs, and SSL_CERT_FILE replaces the system trust \
                 store, so public HTTPS from the pod will fail; set `useDefaultCAs: true` in the \
                 function config, or add the public roots to the ConfigMap",
            ),
            Self::Untold { count } => write!(
                f,
                "and {count} more warnings about blocks of this CA bundle, not listed"
            ),
        }
    }
}

/// A problem that stops the bundle from being written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleError {
    /// A `CERTIFICATE` block whose body is not exactly one X.509 certificate.
    NotACertificate {
        /// Where the block is.
        at: BlockRef,
        /// What is wrong with it.
        reason: String,
    },
    /// A private key block, which must never be copied around with the bundle.
    PrivateKey {
        /// Where the block is.
        at: BlockRef,
        /// Its PEM label, e.g. `RSA PRIVATE KEY`.
        label: String,
    },
    /// A block that cannot be read as PEM.
    MalformedPem {
        /// Where the block is.
        at: BlockRef,
        /// What is wrong with it.
        error: PemError,
    },
    /// No `CERTIFICATE` block in any key.
    NoCertificates {
        /// The keys that were read, in order.
        keys: Vec<String>,
        /// Labels of the other blocks found instead, each once, in order.
        found: Vec<String>,
    },
    /// More than [`MAX_CERTIFICATES`] distinct certificates in the user's keys.
    TooManyCertificates {
        /// Distinct certificates found.
        count: usize,
    },
    /// More block errors than [`MAX_TOLD`]: how many more.
    Untold {
        /// Errors not told.
        count: usize,
    },
    /// The bundle text is over [`MAX_BUNDLE_BYTES`].
    TooLarge {
        /// Size of the bundle text.
        bytes: usize,
        /// Certificates in it.
        count: usize,
        /// Of those, the ones added by `useDefaultCAs`.
        default_cas: usize,
    },
}

impl BundleError {
    /// The block the error is about, when it is about one.
    pub fn block(&self) -> Option<&BlockRef> {
        match self {
            Self::NotACertificate { at, .. }
            | Self::PrivateKey { at, .. }
            | Self::MalformedPem { at, .. } => Some(at),
            Self::NoCertificates { .. }
            | Self::Untold { .. }
            | Self::TooManyCertificates { .. }
            | Self::TooLarge { .. } => None,
        }
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotACertificate { at, reason } => write!(
                f,
                "{at}: the CERTIFICATE block is not a valid X.509 certificate ({reason})"
            ),
            Self::PrivateKey { at, label } => write!(
                f,
                "{at}: found a {label} block; a CA bundle is copied to other namespaces and must \
                 never carry a private key: remove the key from the ConfigMap"
            ),
            Self::MalformedPem { at, error } => write!(f, "{at}: {error}"),
            Self::NoCertificates { keys, found } => {
                if keys.is_empty() {
                    f.write_str("no certificate: no ConfigMap key was read")?;
                } else {
                    let noun = if keys.len() == 1 { "key" } else { "keys" };
                    write!(
                        f,
                        "no CERTIFICATE block in ConfigMap {noun} {}",
                        keys.join(", ")
                    )?;
                }
                if found.is_empty() {
                    Ok(())
                } else {
                    write!(f, "; found only: {}", found.join(", "))
                }
            }
            Self::Untold { count } => write!(
                f,
                "and {count} more errors about blocks of this CA bundle, not listed"
            ),
            Self::TooManyCertificates { count } => write!(
                f,
                "the CA bundle has {count} distinct certificates, more than the limit of \
                 {MAX_CERTIFICATES}"
            ),
            Self::TooLarge {
                bytes,
                count,
                default_cas,
            } => {
                write!(
                    f,
                    "the CA bundle would be {bytes} bytes ({count} certificates), over the \
                     {MAX_BUNDLE_BYTES}-byte (1 MiB) limit of a ConfigMap"
                )?;
                if *default_cas > 0 {
                    write!(
                        f,
                        "; {default_cas} of the certificates come from useDefaultCAs"
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Builds the bundle from `sources`, each a ConfigMap key and its bytes, in key order.
/// `now` is Unix seconds, for the validity warnings. On failure, returns every error found.
pub fn build(
    sources: &[(&str, &[u8])],
    now: i64,
    use_default_cas: bool,
) -> Result<CaBundle, Vec<BundleError>> {
    let mut errors = Told::default();
    let mut warnings = Told::default();
    let mut certs = DistinctCerts::default();
    let mut saw_certificate_block = false;
    let mut other_labels = Vec::new();

    for &(key, bytes) in sources {
        for (index, item) in pem::scan(bytes).into_iter().enumerate() {
            let at = BlockRef {
                key: key.to_owned(),
                block: index + 1,
            };
            match item {
                Ok(block) if block.label == CERTIFICATE => {
                    saw_certificate_block = true;
                    // A repeat was already checked and warned about where it first appeared.
                    if certs.contains(&block.der) {
                        continue;
                    }
                    match inspect(&block.der, &at, now) {
                        Ok(found) => {
                            found.into_iter().for_each(|w| warnings.push(w));
                            certs.insert(&block.der);
                        }
                        Err(reason) => errors.push(BundleError::NotACertificate { at, reason }),
                    }
                }
                Ok(block) if is_private_key(&block.label) => {
                    errors.push(BundleError::PrivateKey {
                        at,
                        label: block.label,
                    });
                }
                Ok(block) => {
                    if !other_labels.contains(&block.label) {
                        other_labels.push(block.label.clone());
                    }
                    warnings.push(Warning::IgnoredBlock {
                        at,
                        label: block.label,
                    });
                }
                // A broken key block still holds key material, and that is the graver problem.
                Err(error) if is_private_key(error.label()) => {
                    let label = error.label().to_owned();
                    errors.push(BundleError::PrivateKey { at, label });
                }
                Err(error) => {
                    saw_certificate_block |= error.label() == CERTIFICATE;
                    errors.push(BundleError::MalformedPem { at, error });
                }
            }
        }
    }

    let mut errors = errors.into_vec(|count| BundleError::Untold { count });
    let mut warnings = warnings.into_vec(|count| Warning::Untold { count });
    // A broken CERTIFICATE block already has its own error; "no certificate" would only repeat it.
    if !saw_certificate_block {
        errors.push(BundleError::NoCertificates {
            keys: sources.iter().map(|&(key, _)| key.to_owned()).collect(),
            found: other_labels,
        });
    }
    let user_count = certs.len();
    if user_count > MAX_CERTIFICATES {
        errors.push(BundleError::TooManyCertificates { count: user_count });
    }

    let public_roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
    if use_default_cas {
        for root in public_roots {
            certs.insert(root);
        }
    } else if !certs
        .iter()
        .any(|der| public_roots.iter().any(|root| root.as_ref() == der))
    {
        warnings.push(Warning::PrivateCasOnly);
    }

    let pem = certs.to_pem();
    if pem.len() > MAX_BUNDLE_BYTES {
        errors.push(BundleError::TooLarge {
            bytes: pem.len(),
            count: certs.len(),
            default_cas: certs.len() - user_count,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CaBundle {
        sha256: sha256_of(&pem),
        pem,
        count: certs.len(),
        user_count,
        warnings,
    })
}

/// Problems about blocks: the first [`MAX_TOLD`] kept, the rest only counted.
struct Told<T> {
    kept: Vec<T>,
    untold: usize,
}

impl<T> Default for Told<T> {
    fn default() -> Self {
        Told {
            kept: Vec::new(),
            untold: 0,
        }
    }
}

impl<T> Told<T> {
    fn push(&mut self, problem: T) {
        if self.kept.len() < MAX_TOLD {
            self.kept.push(problem);
        } else {
            self.untold += 1;
        }
    }

    /// The kept problems, and one that says how many more there were.
    fn into_vec(mut self, untold: impl FnOnce(usize) -> T) -> Vec<T> {
        if self.untold > 0 {
            self.kept.push(untold(self.untold));
        }
        self.kept
    }
}

/// Certificates in first-seen order, each DER encoding once.
#[derive(Default)]
struct DistinctCerts {
    ordered: Vec<Vec<u8>>,
    seen: HashSet<Vec<u8>>,
}

impl DistinctCerts {
    fn contains(&self, der: &[u8]) -> bool {
        self.seen.contains(der)
    }

    fn insert(&mut self, der: &[u8]) {
        if self.seen.insert(der.to_vec()) {
            self.ordered.push(der.to_vec());
        }
    }

    fn len(&self) -> usize {
        self.ordered.len()
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.ordered.iter().map(Vec::as_slice)
    }

    fn to_pem(&self) -> String {
        let mut pem = String::new();
        for der in self.iter() {
            push_pem(&mut pem, der);
        }
        pem
    }
}

/// Parses one certificate and judges it; the error is the reason it does not parse.
fn inspect(der: &[u8], at: &BlockRef, now: i64) -> Result<Vec<Warning>, String> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).map_err(parse_failure)?;
    // Trailing bytes mean the block is not what it claims; better refused than half-trusted.
    if !rest.is_empty() {
        return Err(format!(
            "{} unexpected bytes after the certificate",
            rest.len()
        ));
    }
    let subject = cert.subject().to_string();
    let validity = cert.validity();
    let mut warnings = Vec::new();
    if now > validity.not_after.timestamp() {
        let not_after = rfc3339(&validity.not_after);
        warnings.push(Warning::Expired {
            at: at.clone(),
            subject: subject.clone(),
            not_after,
        });
    } else if now < validity.not_before.timestamp() {
        let not_before = rfc3339(&validity.not_before);
        warnings.push(Warning::NotYetValid {
            at: at.clone(),
            subject: subject.clone(),
            not_before,
        });
    }
    if !cert.is_ca() {
        warnings.push(Warning::NotCa {
            at: at.clone(),
            subject,
        });
    }
    Ok(warnings)
}

/// x509-parser's low-level errors print as Rust debug output; say what they mean instead.
fn parse_failure(error: x509_parser::nom::Err<X509Error>) -> String {
    match X509Error::from(error) {
        X509Error::NomError(_) | X509Error::Der(_) => "the DER encoding is malformed".to_owned(),
        other => other.to_string(),
    }
}

/// Matches on "contains", not "ends with", so that `PGP PRIVATE KEY BLOCK` is caught too.
fn is_private_key(label: &str) -> bool {
    label.contains("PRIVATE KEY")
}

fn rfc3339(time: &ASN1Time) -> String {
    let t = time.to_datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Appends `der` as a PEM block in the one layout the bundle uses, so that equal certificates
/// always give equal bytes, and so an equal hash.
fn push_pem(out: &mut String, der: &[u8]) {
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    let base64 = STANDARD.encode(der);
    let mut rest = base64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END CERTIFICATE-----\n");
}

fn sha256_of(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::from(HASH_PREFIX);
    for byte in Sha256::digest(text.as_bytes()) {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const CA: &str = include_str!("../testdata/certs/ca.pem");
    const CA2: &str = include_str!("../testdata/certs/ca2.pem");
    const EC_CA: &str = include_str!("../testdata/certs/ec-ca.pem");
    const EXPIRED_CA: &str = include_str!("../testdata/certs/expired-ca.pem");
    const FUTURE_CA: &str = include_str!("../testdata/certs/future-ca.pem");
    const LEAF: &str = include_str!("../testdata/certs/leaf.pem");
    const PRIVATE_KEY: &str = include_str!("../testdata/certs/private-key.pem");
    const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----\n";
    const GARBAGE_CERT: &str = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";

    /// 2025-01-01T00:00:00Z
    const NOW: i64 = 1_735_689_600;

    fn build_at(now: i64, sources: &[(&str, &str)]) -> Result<CaBundle, Vec<BundleError>> {
        let sources: Vec<(&str, &[u8])> = sources
            .iter()
            .map(|&(key, text)| (key, text.as_bytes()))
            .collect();
        build(&sources, now, false)
    }

    fn bundle(sources: &[(&str, &str)]) -> CaBundle {
        build_at(NOW, sources).expect("bundle builds")
    }

    fn errors(sources: &[(&str, &str)]) -> Vec<BundleError> {
        build_at(NOW, sources).expect_err("bundle is refused")
    }

    /// Warnings other than the private-CAs one, which almost every fixture set triggers.
    fn cert_warnings(bundle: &CaBundle) -> Vec<&Warning> {
        bundle
            .warnings
            .iter()
            .filter(|w| **w != Warning::PrivateCasOnly)
            .collect()
    }

    fn at(key: &str, block: usize) -> BlockRef {
        BlockRef {
            key: key.to_owned(),
            block,
        }
    }

    fn der_of(text: &str) -> Vec<u8> {
        match pem::scan(text.as_bytes()).as_slice() {
            [Ok(block)] => block.der.clone(),
            other => panic!("expected one good block, got {other:?}"),
        }
    }

    /// `n` different certificates that all parse: x509-parser does not check signatures, so
    /// rewriting the last bytes of ca.pem's signature is enough.
    fn distinct_certificates(n: u16) -> String {
        let der = der_of(CA);
        let mut text = String::new();
        for i in 0..n {
            let mut copy = der.clone();
            let tail = copy.len() - 2;
            copy[tail..].copy_from_slice(&i.to_be_bytes());
            push_pem(&mut text, &copy);
        }
        text
    }

    #[test]
    fn bom_crlf_and_comments_give_the_clean_bundle() {
        let messy = format!(
            "\u{feff}# corporate root\r\n\r\n{}\r\nissued by security team\r\n{}",
            CA.replace('\n', "\r\n"),
            CA2
        );
        let clean = format!("{CA}{CA2}");
        let from_messy = bundle(&[("ca-bundle.crt", &messy)]);
        assert_eq!(from_messy.pem, clean);
        assert_eq!(
            from_messy.sha256,
            bundle(&[("ca-bundle.crt", &clean)]).sha256
        );
    }

    #[test]
    fn whitespace_only_key_adds_nothing() {
        let bundle = bundle(&[("empty.crt", " \r\n\t\n"), ("ca-bundle.crt", CA)]);
        assert_eq!((bundle.pem.as_str(), bundle.count), (CA, 1));
    }

    #[test]
    fn duplicates_are_kept_once_in_first_seen_order() {
        let first = format!("{CA}{LEAF}{CA2}");
        let second = format!("{EC_CA}{CA}{LEAF}");
        let bundle = bundle(&[("a.crt", &first), ("b.crt", &second)]);
        assert_eq!(bundle.pem, format!("{CA}{LEAF}{CA2}{EC_CA}"));
        assert_eq!((bundle.count, bundle.user_count), (4, 4));
        // The repeated leaf is judged once, where it first appears.
        let subject = "CN=LLSD Test Leaf".to_owned();
        assert_eq!(
            cert_warnings(&bundle),
            [&Warning::NotCa {
                at: at("a.crt", 2),
                subject
            }]
        );
    }

    #[test]
    fn reencodes_as_64_column_lf_pem() {
        let mut out = String::new();
        push_pem(&mut out, &[0; 49]);
        let expected = format!(
            "-----BEGIN CERTIFICATE-----\n{}\nAA==\n-----END CERTIFICATE-----\n",
            "A".repeat(64)
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn reflows_a_certificate_written_on_long_lines() {
        let body: String = CA
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let one_line =
            format!("-----BEGIN CERTIFICATE-----\r\n{body}\r\n-----END CERTIFICATE-----");
        assert_eq!(bundle(&[("ca-bundle.crt", &one_line)]).pem, CA);
    }

    #[test]
    fn hash_is_sha256_of_the_bundle_text() {
        let empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(sha256_of(""), empty);
        let bundle = bundle(&[("ca-bundle.crt", CA)]);
        assert_eq!(bundle.sha256, sha256_of(CA));
    }

    #[test]
    fn hash_changes_when_a_certificate_changes() {
        let before = bundle(&[("a.crt", CA), ("b.crt", CA2)]).sha256;
        let after = bundle(&[("a.crt", CA), ("b.crt", EC_CA)]).sha256;
        assert_ne!(before, after);
    }

    #[test]
    fn expired_certificate_warns_with_not_after() {
        let bundle = bundle(&[("ca-bundle.crt", EXPIRED_CA)]);
        let warning = Warning::Expired {
            at: at("ca-bundle.crt", 1),
            subject: "CN=LLSD Expired Root CA".into(),
            not_after: "2000-01-01T00:00:00Z".into(),
        };
        assert_eq!(cert_warnings(&bundle), [&warning]);
        assert_eq!(
            warning.to_string(),
            "key ca-bundle.crt, block 1: certificate \"CN=LLSD Expired Root CA\" expired on \
             2000-01-01T00:00:00Z"
        );
    }

    #[test]
    fn expiry_is_judged_against_the_given_now() {
        let in_1999 = 946_684_799;
        let bundle = build_at(in_1999, &[("ca-bundle.crt", EXPIRED_CA)]).expect("bundle builds");
        assert!(cert_warnings(&bundle).is_empty());
    }

    #[test]
    fn not_yet_valid_certificate_warns_with_not_before() {
        let bundle = bundle(&[("ca-bundle.crt", FUTURE_CA)]);
        let warning = Warning::NotYetValid {
            at: at("ca-bundle.crt", 1),
            subject: "CN=LLSD Future Root CA".into(),
            not_before: "2090-01-01T00:00:00Z".into(),
        };
        assert_eq!(cert_warnings(&bundle), [&warning]);
    }

    #[test]
    fn leaf_certificate_warns_that_it_is_not_a_ca() {
        let text = format!("{CA}{LEAF}");
        let bundle = bundle(&[("ca-bundle.crt", &text)]);
        let subject = "CN=LLSD Test Leaf".to_owned();
        let warning = Warning::NotCa {
            at: at("ca-bundle.crt", 2),
            subject,
        };
        assert_eq!(cert_warnings(&bundle), [&warning]);
    }

    #[test]
    fn other_block_types_are_ignored_with_a_warning() {
        let text = format!("{PUBLIC_KEY}{CA}");
        let bundle = bundle(&[("ca-bundle.crt", &text)]);
        assert_eq!(bundle.pem, CA);
        let warning = Warning::IgnoredBlock {
            at: at("ca-bundle.crt", 1),
            label: "PUBLIC KEY".into(),
        };
        assert_eq!(cert_warnings(&bundle), [&warning]);
    }

    #[test]
    fn thousands_of_bad_blocks_are_told_as_twenty_and_a_count() {
        let broken = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n".repeat(5000);
        let found = errors(&[("ca-bundle.crt", &broken)]);
        assert_eq!(found.len(), MAX_TOLD + 1, "{found:?}");
        assert_eq!(
            found[MAX_TOLD],
            BundleError::Untold {
                count: 5000 - MAX_TOLD
            }
        );
        let ignored = format!("{}{CA}", PUBLIC_KEY.repeat(300));
        let warnings = cert_warnings(&bundle(&[("ca-bundle.crt", &ignored)])).len();
        assert_eq!(warnings, MAX_TOLD + 1);
    }

    #[test]
    fn private_cas_only_warns_once() {
        let bundle = bundle(&[("a.crt", CA), ("b.crt", CA2)]);
        let private_only: Vec<_> = bundle
            .warnings
            .iter()
            .filter(|w| **w == Warning::PrivateCasOnly)
            .collect();
        assert_eq!(private_only.len(), 1);
        let message = Warning::PrivateCasOnly.to_string();
        assert!(
            message.contains("SSL_CERT_FILE replaces the system trust store"),
            "{message}"
        );
        assert!(message.contains("useDefaultCAs: true"), "{message}");
    }

    #[test]
    fn a_public_root_in_the_configmap_suppresses_the_private_only_warning() {
        let mut root = String::new();
        push_pem(&mut root, &webpki_root_certs::TLS_SERVER_ROOT_CERTS[0]);
        let text = format!("{CA}{root}");
        assert!(bundle(&[("ca-bundle.crt", &text)]).warnings.is_empty());
    }

    #[test]
    fn use_default_cas_appends_the_public_roots_once() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        let mut first_root = String::new();
        push_pem(&mut first_root, &roots[0]);
        let text = format!("{CA}{first_root}");
        let bundle =
            build(&[("ca-bundle.crt", text.as_bytes())], NOW, true).expect("bundle builds");
        assert!(bundle.pem.starts_with(&text));
        assert_eq!((bundle.count, bundle.user_count), (roots.len() + 1, 2));
        assert!(bundle.warnings.is_empty());
    }

    #[test]
    fn private_key_is_an_error() {
        let text = format!("{CA}{PRIVATE_KEY}");
        let expected = BundleError::PrivateKey {
            at: at("ca-bundle.crt", 2),
            label: "PRIVATE KEY".into(),
        };
        let message = expected.to_string();
        assert_eq!(errors(&[("ca-bundle.crt", &text)]), [expected]);
        assert!(
            message.contains("must never carry a private key"),
            "{message}"
        );
    }

    #[test]
    fn every_private_key_label_is_an_error() {
        for label in [
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
        ] {
            let text = format!("{CA}-----BEGIN {label}-----\naGVsbG8=\n-----END {label}-----\n");
            let expected = BundleError::PrivateKey {
                at: at("k", 2),
                label: label.into(),
            };
            assert_eq!(errors(&[("k", &text)]), [expected]);
        }
    }

    #[test]
    fn broken_private_key_block_is_still_a_private_key_error() {
        let text = format!("{CA}-----BEGIN RSA PRIVATE KEY-----\nMIIE");
        let expected = BundleError::PrivateKey {
            at: at("k", 2),
            label: "RSA PRIVATE KEY".into(),
        };
        assert_eq!(errors(&[("k", &text)]), [expected]);
    }

    #[test]
    fn garbage_in_a_certificate_block_names_key_and_block() {
        let text = format!("{CA}{GARBAGE_CERT}");
        let errors = errors(&[("ca-bundle.crt", CA2), ("extra.crt", &text)]);
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "key extra.crt, block 2: the CERTIFICATE block is not a valid X.509 certificate \
              (the DER encoding is malformed)"
            ]
        );
    }

    #[test]
    fn bytes_after_the_certificate_are_an_error() {
        let mut der = der_of(CA);
        der.extend_from_slice(&[0, 0]);
        let mut text = String::new();
        push_pem(&mut text, &der);
        let reason = "2 unexpected bytes after the certificate".to_owned();
        let expected = BundleError::NotACertificate {
            at: at("k", 1),
            reason,
        };
        assert_eq!(errors(&[("k", &text)]), [expected]);
    }

    #[test]
    fn malformed_pem_is_an_error() {
        let text = format!("{CA}-----BEGIN CERTIFICATE-----\nMIIB\n");
        let error = PemError::UnterminatedBlock {
            label: "CERTIFICATE".into(),
        };
        assert_eq!(
            errors(&[("k", &text)]),
            [BundleError::MalformedPem {
                at: at("k", 2),
                error
            }]
        );
    }

    #[test]
    fn every_error_is_reported_not_just_the_first() {
        let errors = errors(&[
            ("a.crt", GARBAGE_CERT),
            ("b.crt", CA),
            ("c.key", PRIVATE_KEY),
        ]);
        assert!(matches!(
            errors.as_slice(),
            [
                BundleError::NotACertificate { .. },
                BundleError::PrivateKey { .. }
            ]
        ));
    }

    #[test]
    fn no_certificate_at_all_names_the_keys_read() {
        let errors = errors(&[("a.crt", ""), ("b.crt", PUBLIC_KEY)]);
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            ["no CERTIFICATE block in ConfigMap keys a.crt, b.crt; found only: PUBLIC KEY"]
        );
    }

    #[test]
    fn more_than_the_limit_of_certificates_is_an_error() {
        let limit = u16::try_from(MAX_CERTIFICATES).expect("limit fits u16");
        let over = distinct_certificates(limit + 1);
        let errors = errors(&[("ca-bundle.crt", &over)]);
        let count = MAX_CERTIFICATES + 1;
        assert!(
            errors.contains(&BundleError::TooManyCertificates { count }),
            "{errors:?}"
        );
    }

    #[test]
    fn bundle_over_one_mib_is_an_error() {
        // A thousand RSA certificates are within the count limit but over 1 MiB of PEM.
        let limit = u16::try_from(MAX_CERTIFICATES).expect("limit fits u16");
        let many = distinct_certificates(limit);
        let errors = errors(&[("ca-bundle.crt", &many)]);
        let [
            BundleError::TooLarge {
                bytes,
                count,
                default_cas: 0,
            },
        ] = errors.as_slice()
        else {
            panic!("expected only a size error, got {errors:?}");
        };
        assert!(*bytes > MAX_BUNDLE_BYTES);
        assert_eq!(*count, MAX_CERTIFICATES);
    }

    #[test]
    fn messages_are_single_lines() {
        let errors = errors(&[("a.crt", GARBAGE_CERT), ("b.crt", PRIVATE_KEY)]);
        let bundle = bundle(&[("a.crt", &format!("{PUBLIC_KEY}{LEAF}{EXPIRED_CA}"))]);
        let messages = errors
            .iter()
            .map(ToString::to_string)
            .chain(bundle.warnings.iter().map(ToString::to_string));
        for message in messages {
            assert!(!message.contains('\n'), "{message}");
        }
    }

    proptest! {
        #[test]
        fn source_layout_never_changes_the_bundle(
            width in 1..=120usize,
            ends in prop::collection::vec(prop_oneof![Just("\n"), Just("\r\n"), Just("\r")], 1..8),
            indent in "[ \t]{0,4}",
        ) {
            let body: String = CA.lines().filter(|line| !line.starts_with("-----")).collect();
            let mut text = format!("{indent}-----BEGIN CERTIFICATE-----{}", ends[0]);
            for (i, chunk) in body.as_bytes().chunks(width).enumerate() {
                let chunk = String::from_utf8_lossy(chunk);
                text.push_str(&format!("{indent}{chunk}{}", ends[i % ends.len()]));
            }
            text.push_str("-----END CERTIFICATE-----");
            let bundle = bundle(&[("ca-bundle.crt", &text)]);
            prop_assert_eq!(bundle.pem, CA);
        }
    }
}
