//! Writing to stdout without panicking when the reader went away (`appliance ... | head`).

use std::io::Write;

/// Prints one line; a closed pipe ends output quietly instead of panicking.
pub fn line(text: impl AsRef<str>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_ref().as_bytes())
        .and_then(|()| stdout.write_all(b"\n"));
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: writing to stdout: {e}");
    }
}
