//! The whole function on arbitrary bytes: it must never panic, overflow its stack or run away
//! with memory; whatever it writes must be a ResourceList that it can read again; and reading
//! only the items that matter must give what parsing the list whole gives, whenever the whole
//! list parses.

#![no_main]

use libfuzzer_sys::fuzz_target;

/// A fixed clock (2025-01-01), so that a finding reproduces on any day.
const NOW: i64 = 1_735_689_600;

fn written(rendered: &llsd_ca_bundle::Rendered<'_>) -> (Vec<u8>, i32) {
    let mut out = Vec::new();
    rendered.write_to(&mut out).expect("writing to a Vec");
    (out, rendered.exit_code)
}

fuzz_target!(|data: &[u8]| {
    // The binary refuses input that is not UTF-8 before it calls `run`.
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(output) = llsd_ca_bundle::run(input, NOW) else {
        return;
    };
    assert!(output.exit_code == 0 || output.exit_code == 1);
    if let Ok(whole) = llsd_ca_bundle::render_whole(input, NOW) {
        let lazy = llsd_ca_bundle::render(input, NOW).expect("it rendered above");
        assert!(
            written(&lazy) == written(&whole),
            "read lazily and whole, the outputs differ:\n{}\n---\n{}",
            String::from_utf8_lossy(&written(&lazy).0),
            String::from_utf8_lossy(&written(&whole).0)
        );
    }
    // The output goes to the next function in the pipeline, or to this one again.
    if let Err(e) = llsd_ca_bundle::run(&output.text, NOW) {
        panic!("the output is not a ResourceList ({e}):\n{}", output.text);
    }
});
