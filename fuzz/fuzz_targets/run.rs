//! The whole function on arbitrary bytes: it must never panic, overflow its stack or run away
//! with memory, and whatever it writes must be a ResourceList that it can read again.

#![no_main]

use libfuzzer_sys::fuzz_target;

/// A fixed clock (2025-01-01), so that a finding reproduces on any day.
const NOW: i64 = 1_735_689_600;

fuzz_target!(|data: &[u8]| {
    // The binary refuses input that is not UTF-8 before it calls `run`.
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(output) = llsd_ca_bundle::run(input, NOW) else {
        return;
    };
    assert!(output.exit_code == 0 || output.exit_code == 1);
    // The output goes to the next function in the pipeline, or to this one again.
    if let Err(e) = llsd_ca_bundle::run(&output.text, NOW) {
        panic!("the output is not a ResourceList ({e}):\n{}", output.text);
    }
});
