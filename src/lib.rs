//! # llsd-ca-bundle
//!
//! A KRM function that makes Llama Stack servers trust a private CA. It reads a `ResourceList`,
//! finds every `LlamaStackDistribution` that names a CA bundle ConfigMap under
//! `spec.server.tlsConfig.caBundle`, checks the certificates, and rewrites the LLSD's Deployment:
//! a managed `<llsd>-ca-bundle` ConfigMap, a read-only volume mount, `SSL_CERT_FILE` and
//! `REQUESTS_CA_BUNDLE`, and a hash annotation that rolls the pods when the CA changes.
//!
//! ```
//! let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n";
//! let output = llsd_ca_bundle::run(input, 0).unwrap();
//! assert_eq!(output.exit_code, 0);
//! ```
//!
//! The steps, one module each: [`list`] reads, [`config`] checks the function config, [`llsd`]
//! finds the references, [`resolve`] finds the CA ConfigMap, [`bundle`] builds the bundle,
//! [`target`] and [`rewrite`] edit the Deployments, [`managed`] keeps the bundle ConfigMap,
//! [`reconcile`] ties them together per LLSD, [`results`] and [`write`] produce the output.
#![deny(missing_docs)]

pub mod bundle;
pub mod config;
pub mod index;
pub mod list;
pub mod llsd;
pub mod managed;
pub mod meta;
pub mod names;
pub mod pem;
pub mod reconcile;
pub mod resolve;
pub mod results;
pub mod rewrite;
pub mod select;
pub mod target;
pub mod write;
pub mod yaml;

use config::FnConfig;
use list::{NotAResourceList, ResourceList};
use results::{KrmResult, Severity};
use write::Out;

/// The output text and the process exit code.
pub struct Output {
    /// The `ResourceList` to write on stdout.
    pub text: String,
    /// 0, or 1 when any result is an error.
    pub exit_code: i32,
}

/// The function's work on one input, ready to be written.
pub struct Rendered<'a> {
    list: ResourceList<'a>,
    outs: Vec<Out<'a>>,
    results: Vec<KrmResult>,
    /// 0, or 1 when any result is an error.
    pub exit_code: i32,
}

impl Rendered<'_> {
    /// The error and warning results, in the order they are reported.
    pub fn problems(&self) -> impl Iterator<Item = &KrmResult> {
        results::ordered(&self.results)
            .into_iter()
            .filter(|r| r.severity != Severity::Info)
    }

    /// Write the output `ResourceList` to `sink`.
    pub fn write_to(&self, sink: &mut impl std::io::Write) -> std::io::Result<()> {
        write::write(&self.list, &self.outs, &self.results, sink)
    }
}

/// Run the function on `input` and return the output as text; see [`render`].
pub fn run(input: &str, now: i64) -> Result<Output, NotAResourceList> {
    let rendered = render(input, now)?;
    let mut text = Vec::with_capacity(input.len());
    rendered
        .write_to(&mut text)
        .expect("writing to a Vec does not fail");
    Ok(Output {
        text: String::from_utf8(text).expect("the output is made of str slices"),
        exit_code: rendered.exit_code,
    })
}

/// Run the function on `input`. `now` is Unix seconds, for certificate validity. Input that is not a
/// `ResourceList` is an `Err`; every other problem is a result in the output.
///
/// Plain block-style input is scanned and only the items that matter are parsed ([`select`]).
/// A run that way that ends in an error is run again on the list parsed whole, so that error
/// messages can list everything that exists instead of what was missing. When the whole list
/// does not parse, because an item the function had no need to read is not valid YAML, every
/// item that parses on its own is read instead, and the others go back as they came, as they
/// would have on success.
pub fn render(input: &str, now: i64) -> Result<Rendered<'_>, NotAResourceList> {
    let text = input.strip_prefix('\u{feff}').unwrap_or(input);
    if let Some(mut list) = ResourceList::scan(text)
        && select::read_what_matters(&mut list)
    {
        let rendered = transform(list, now);
        if rendered.exit_code == 0 {
            return Ok(rendered);
        }
        if let Ok(whole) = render_whole(input, now) {
            return Ok(whole);
        }
        let mut list = ResourceList::scan(text).expect("the text scanned above");
        list.read_every_item();
        return Ok(transform(list, now));
    }
    render_whole(input, now)
}

/// Render the list parsed whole, every item read: what [`render`] does on input it cannot scan.
pub fn render_whole(input: &str, now: i64) -> Result<Rendered<'_>, NotAResourceList> {
    let text = input.strip_prefix('\u{feff}').unwrap_or(input);
    Ok(transform(ResourceList::parse(text)?, now))
}

/// Check the function config, reconcile every LLSD, and settle what is written.
fn transform(list: ResourceList<'_>, now: i64) -> Rendered<'_> {
    let count = list.items().len();
    let (outs, results) = match FnConfig::from_node(list.function_config()) {
        Ok(config) => reconcile::reconcile(list.items(), &config, now).into_outs(count),
        Err(e) => {
            let mut result = KrmResult::error(e.to_string());
            // A config without a kind (a list, `{}`) has no reference worth giving.
            if let Some(fc) = list.function_config().filter(|fc| fc.get("kind").is_some()) {
                result = result.on(fc);
            }
            if !e.field.is_empty() {
                result = result.at(e.field);
            }
            (Vec::new(), vec![result])
        }
    };
    let failed = results::has_errors(&results);
    // On any error, every item goes back as it came: nothing is half done, and the infos that
    // describe changes would be untrue.
    let (outs, results) = if failed {
        let kept = results.into_iter().filter(|r| r.severity != Severity::Info);
        ((0..count).map(Out::Keep).collect(), kept.collect())
    } else {
        (outs, results)
    };
    Rendered {
        list,
        outs,
        results,
        exit_code: i32::from(failed),
    }
}
