//! `install-binary SRC DEST`: copies one file and makes the copy executable (mode 0755).
//!
//! The function image has no shell and no `cp`. Argo CD's repo server gets the function binary
//! through an init container that runs this helper from the function image to copy the binary
//! into a shared `emptyDir` (Argo CD strips executable bits from files in Git, so the binary
//! cannot come from the repository). Built on its own with `rustc` by `docker/build-static.sh`.

use std::os::unix::fs::PermissionsExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dest] = args.as_slice() else {
        eprintln!("usage: install-binary SRC DEST");
        return ExitCode::from(2);
    };
    // Write to a temporary name first so a reader never sees a half-written binary.
    let partial = format!("{dest}.partial");
    let copied = std::fs::copy(src, &partial)
        .and_then(|_| std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755)))
        .and_then(|()| std::fs::rename(&partial, dest));
    match copied {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            eprintln!("install-binary: copy {src} to {dest}: {err}");
            ExitCode::FAILURE
        }
    }
}
