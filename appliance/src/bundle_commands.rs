//! `appliance bundle`: make author keys, build and sign bundles, verify and compare them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tf_bundles::{AuthorKey, BuildInfo, Bundle, BundleFiles, Refusal, TrustedAuthors};
use tf_config::Config;

use crate::cli::{BundleBuildArgs, BundleWhat, StateArgs};
use crate::output;
use tf_state::State;

/// Runs one `appliance bundle` command.
pub fn run(what: BundleWhat) -> ExitCode {
    match what {
        BundleWhat::Keygen { out } => keygen(&out),
        BundleWhat::Build(args) => build(args),
        BundleWhat::Verify {
            file,
            trust,
            config,
            state,
        } => verify(&file, &trust, config.as_deref(), state),
        BundleWhat::Diff { old, new, json } => diff(&old, &new, json),
        BundleWhat::Drift(args) => crate::drift_commands::drift(args),
        BundleWhat::Schema => {
            output::line(tf_bundles::SCHEMA.trim_end());
            ExitCode::SUCCESS
        }
    }
}

/// The authors a configuration trusts: its `[bundles] trusted_authors`, else the state
/// directory's development author key.
pub fn trusted_authors(config: &Config, state: &State) -> Result<TrustedAuthors, String> {
    let mut trusted = TrustedAuthors::default();
    if config.bundles.trusted_authors.is_empty() {
        let dev = state.dev_author().map_err(|e| e.to_string())?;
        trusted.add(dev.public_key());
    }
    for key in &config.bundles.trusted_authors {
        trusted.add(TrustedAuthors::parse_key(key)?);
    }
    Ok(trusted)
}

fn keygen(out: &Path) -> ExitCode {
    if out.exists() {
        return usage(&format!(
            "{} exists; choose another file (an author key is never overwritten)",
            out.display()
        ));
    }
    let key = AuthorKey::generate(&mut rand_core::OsRng);
    if let Err(e) = tf_state::write_private_file(out, key.secret_hex().as_bytes()) {
        return usage(&e.to_string());
    }
    output::line(format!(
        "author key written to {} (keep it secret)",
        out.display()
    ));
    output::line(format!("public key: {}", key.public_hex()));
    output::line(format!("key id:     {}", key.key_id()));
    output::line(
        "trust it on an appliance with `trusted_authors = [\"<public key>\"]` under [bundles]",
    );
    ExitCode::SUCCESS
}

fn build(args: BundleBuildArgs) -> ExitCode {
    let key = match &args.key {
        Some(path) => AuthorKey::read(path),
        None => State::open_existing(&State::resolve(args.state.state_dir.clone()))
            .and_then(|state| state.dev_author())
            .map_err(|e| format!("{e}; or pass --key FILE")),
    };
    let mut key = match key {
        Ok(key) => key,
        Err(message) => return usage(&message),
    };
    let source = match BundleFiles::from_dir(&args.dir) {
        Ok(files) => files,
        Err(problem) => return refused(&args.dir, &Refusal::one(problem)),
    };
    let info = BuildInfo {
        revision: args.revision,
        author: args.author,
        note: args.note,
        tickets: args.ticket,
        created_unix_s: tf_seam::clock::unix_micros() / 1_000_000,
        republishes: None,
    };
    let limits = tf_engine::Limits::DEFAULT;
    let bundle = match tf_bundles::build(source, info, &mut key, &limits) {
        Ok(bundle) => bundle,
        Err(refusal) => return refused(&args.dir, &refusal),
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("bundle-{}.tar.gz", bundle.revision())));
    if let Err(e) = std::fs::write(&out, bundle.files.to_tar_gz()) {
        return usage(&format!("{}: {e}", out.display()));
    }
    output::line(format!("built {}", out.display()));
    print_summary(&bundle);
    ExitCode::SUCCESS
}

fn verify(file: &Path, trust: &[String], config: Option<&Path>, state: StateArgs) -> ExitCode {
    let trusted = if trust.is_empty() {
        let config = match Config::load_or_default(config) {
            Ok(config) => config,
            Err(e) => return usage(&e.to_string()),
        };
        let root = State::resolve(state.state_dir.or(config.server.state_dir.clone()));
        match State::open_existing(&root)
            .map_err(|e| e.to_string())
            .and_then(|state| trusted_authors(&config, &state))
        {
            Ok(trusted) => trusted,
            Err(message) => {
                return usage(&format!(
                    "{message}; or name trusted authors with --trust KEY"
                ));
            }
        }
    } else {
        match trust.iter().map(|k| TrustedAuthors::parse_key(k)).collect() {
            Ok(keys) => TrustedAuthors::new(keys),
            Err(message) => return usage(&message),
        }
    };
    let files = match BundleFiles::read(file) {
        Ok(files) => files,
        Err(problem) => return refused(file, &Refusal::one(problem)),
    };
    match tf_bundles::open(files, Some(&trusted), &tf_engine::Limits::DEFAULT) {
        Ok(bundle) => {
            output::line(format!("valid bundle {}", file.display()));
            print_summary(&bundle);
            ExitCode::SUCCESS
        }
        Err(refusal) => refused(file, &refusal),
    }
}

fn diff(old: &Path, new: &Path, json: bool) -> ExitCode {
    let open = |path: &Path| -> Result<Bundle, ExitCode> {
        let files = BundleFiles::read(path).map_err(|p| refused(path, &Refusal::one(p)))?;
        tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT).map_err(|r| refused(path, &r))
    };
    let (old_bundle, new_bundle) = match (open(old), open(new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let lines = tf_bundles::diff(&old_bundle, &new_bundle);
    if json {
        let doc = serde_json::json!({
            "old": { "revision": old_bundle.revision(), "hash": old_bundle.hash },
            "new": { "revision": new_bundle.revision(), "hash": new_bundle.hash },
            "changes": lines,
        });
        output::line(serde_json::to_string_pretty(&doc).expect("a diff always serialises"));
        return ExitCode::SUCCESS;
    }
    output::line(format!(
        "revision {} ({}) -> revision {} ({}): {}",
        old_bundle.revision(),
        short(&old_bundle.hash),
        new_bundle.revision(),
        short(&new_bundle.hash),
        new_bundle.manifest.note
    ));
    if lines.is_empty() {
        output::line("no changes in tenants, budgets, policies or keys");
    }
    for line in lines {
        output::line(line.to_string());
    }
    ExitCode::SUCCESS
}

fn print_summary(bundle: &Bundle) {
    let m = &bundle.manifest;
    output::line(format!("  revision: {}", m.revision));
    output::line(format!(
        "  author:   {} (key {})",
        m.author, bundle.author_key_id
    ));
    output::line(format!("  note:     {}", m.note));
    for ticket in &m.tickets {
        output::line(format!("  ticket:   {ticket}"));
    }
    output::line(format!("  created:  {}", m.created));
    output::line(format!("  hash:     {}", bundle.hash));
    output::line(format!(
        "  contents: {} tenants, {} policies, {} verifying keys, {} files",
        bundle.content.tenants.len(),
        bundle.policies.texts().len(),
        bundle.content.keys.len(),
        m.files.len()
    ));
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn refused(path: &Path, refusal: &Refusal) -> ExitCode {
    eprintln!("{}: {refusal}", path.display());
    ExitCode::from(1)
}

fn usage(message: &str) -> ExitCode {
    eprintln!("appliance bundle: {message}");
    ExitCode::from(2)
}
