//! Libraries the tests preload into the appliance (LD_PRELOAD) to stand between it and the
//! disk: built from their C source in tests/ by the system's compiler.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds tests/`name`/`name`.c into `dir`/`name`.so.
pub fn build(name: &str, dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/{name}/{name}.c"));
    let library = dir.join(format!("{name}.so"));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let built = Command::new(&compiler)
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o"])
        .arg(&library)
        .arg(&source)
        .args(["-ldl", "-pthread"])
        .output()
        .unwrap_or_else(|e| panic!("{compiler} runs: {e}"));
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    library
}
