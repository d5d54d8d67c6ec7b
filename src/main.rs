//! Reads a ResourceList on stdin, runs the function, writes the ResourceList on stdout.

use anyhow::Context;
use std::io::{Read, Write};
use std::process::ExitCode;

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
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("reading stdin")?;
    let input = String::from_utf8(input).map_err(|e| {
        anyhow::anyhow!(
            "input is not a ResourceList: not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let output = llsd_ca_bundle::run(&input, now)?;
    std::io::stdout()
        .lock()
        .write_all(output.text.as_bytes())
        .context("writing stdout")?;
    Ok(ExitCode::from(u8::try_from(output.exit_code).unwrap_or(1)))
}
