//! Feeds arbitrary text to the configuration parser the appliance runs on its file at start,
//! on reload and in `appliance config check`: TOML into the typed `Config`, then validation.
//! A valid configuration serialises to TOML that parses back to the same configuration, as
//! `appliance ctl` relies on when it writes a configuration out.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tf_config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("appliance.toml");
    let Ok(config) = Config::parse(text, path) else {
        return;
    };
    let written = toml::to_string(&config).expect("a valid configuration serialises");
    let again = Config::parse(&written, path);
    assert_eq!(again.as_ref().ok(), Some(&config), "{written}\n{again:?}");
});
