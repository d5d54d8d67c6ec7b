//! Reads a ResourceList on stdin, runs the function, writes the ResourceList on stdout.

use anyhow::{Context, bail};
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

const HELP: &str = "\
llsd-ca-bundle: a KRM function that makes Llama Stack servers trust a private CA.

It reads a ResourceList on stdin and writes one on stdout. For every LlamaStackDistribution
(llamastack.io/v1alpha1) with spec.server.tlsConfig.caBundle, it checks the certificates in the
named ConfigMap, writes a managed ConfigMap <llsd>-ca-bundle, and rewrites the LLSD's Deployment:
a read-only volume mount, SSL_CERT_FILE and REQUESTS_CA_BUNDLE, and a hash annotation on the pod
template so that pods roll when the CA changes. Any error result: exit code 1, items unchanged.

USAGE:
    llsd-ca-bundle < resource-list.yaml > output.yaml
    kpt fn render PKG --allow-exec        (with an exec: or image: step in the Kptfile)
    kpt fn eval PKG --exec llsd-ca-bundle -- useDefaultCAs=true

FUNCTION CONFIG (every field optional; own kind shown, a ConfigMap with the same data keys works):
    apiVersion: fn.llamastack.io/v1alpha1
    kind: LlsdCaBundle
    metadata:
      name: ca-bundle
    mountPath: /etc/ssl/certs/ca-bundle            # directory the bundle is mounted at
    envVars: [SSL_CERT_FILE, REQUESTS_CA_BUNDLE]   # set to <mountPath>/ca-bundle.crt
    hashAnnotation: configmap.hash/ca-bundle       # pod-template annotation, sha256:<hex>
    useDefaultCAs: false                           # append public roots to the bundle

OPTIONS:
    -h, --help       Print this help
    -V, --version    Print the version

Documentation: https://github.com/llamastack/llsd-ca-bundle#readme
";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("llsd-ca-bundle: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    if let Some(arg) = std::env::args().nth(1) {
        match arg.as_str() {
            "-h" | "--help" => print!("{HELP}"),
            "-V" | "--version" => println!("llsd-ca-bundle {}", env!("CARGO_PKG_VERSION")),
            other => bail!(
                "unknown argument {other:?}; the function reads a ResourceList on stdin (see --help)"
            ),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if std::io::stdin().is_terminal() {
        bail!(
            "expected a ResourceList on stdin, e.g. `llsd-ca-bundle < resource-list.yaml` (see --help)"
        );
    }
    // Read one byte past the cap, no more: an endless or huge stream must not fill the memory.
    // A file on stdin says its size, so the buffer is allocated once, not doubled as it fills.
    let cap = llsd_ca_bundle::list::MAX_INPUT_BYTES;
    let size_hint = std::fs::metadata("/dev/stdin").map_or(0, |m| m.len());
    let mut input = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(cap).min(cap) + 1);
    std::io::stdin()
        .take(cap as u64 + 1)
        .read_to_end(&mut input)
        .context("reading stdin")?;
    if input.len() > cap {
        bail!(
            "input is not a ResourceList: it is over {} MiB, and at most that is read",
            cap / (1024 * 1024)
        );
    }
    let input = String::from_utf8(input).map_err(|e| {
        anyhow::anyhow!(
            "input is not a ResourceList: not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let rendered = llsd_ca_bundle::render(&input, now)?;
    // kustomize, and so Argo CD, drop the results and show only stderr: say there what went wrong.
    for problem in rendered.problems() {
        eprintln!("llsd-ca-bundle: {problem}");
    }
    rendered
        .write_to(&mut std::io::BufWriter::new(std::io::stdout().lock()))
        .context("writing stdout")?;
    let code = ExitCode::from(u8::try_from(rendered.exit_code).unwrap_or(1));
    // The process is about to end, and with it all its memory at once: freeing the parsed items
    // node by node first would only cost time.
    std::mem::forget(rendered);
    Ok(code)
}
