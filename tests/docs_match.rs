//! The docs match the code. Each test takes its names from the code (the built `partner`
//! binary's help, the wire crate's lists and archived types, receipts and a state directory a
//! real appliance left) and fails, naming what is missing, when a doc falls behind:
//! `docs/partner-guide.md`, `docs/wire-protocol.md`, `docs/receipts.md` and
//! `docs/state-directory.md`; and the CI jobs `docs/drift-guard.md` offers are YAML whose
//! override is the approver's.

#[path = "support/receipts.rs"]
mod receipts;
#[path = "support/server.rs"]
mod server;
mod support;

use std::collections::BTreeSet;
use std::mem::{align_of, align_of_val, size_of, size_of_val};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use server::Server;
use tf_receipts::ReceiptSigner;
use tf_wire::{
    About, AboutQuery, ArchivedAbout, ArchivedAboutQuery, ArchivedBudgetQuery,
    ArchivedBudgetStatus, ArchivedCapState, ArchivedChecklist, ArchivedChecklistQuery,
    ArchivedChecklistStep, ArchivedCurve, ArchivedDatasetClass, ArchivedErrorCode,
    ArchivedErrorReply, ArchivedEvidenceFile, ArchivedEvidencePreview,
    ArchivedEvidencePreviewQuery, ArchivedKeyRegistered, ArchivedLogProof, ArchivedLogProofQuery,
    ArchivedMessage, ArchivedOnboard, ArchivedOnboarded, ArchivedOverBudget,
    ArchivedOverBudgetReason, ArchivedPolicyDenial, ArchivedReceiptEnvelope,
    ArchivedReceiptSignature, ArchivedRegisterKey, ArchivedStatement, ArchivedSubmit,
    ArchivedTermsCap, ArchivedTermsReply, ArchivedTermsRequest, ArchivedVerdictCode,
    ArchivedVerdictReply, BudgetQuery, BudgetStatus, CapState, Checklist, ChecklistQuery,
    ChecklistStep, Curve, DatasetClass, ErrorCode, ErrorReply, EvidenceFile, EvidencePreview,
    EvidencePreviewQuery, FrameDecoder, KeyRegistered, LogProof, LogProofQuery,
    MAX_ABOUT_TEXT_BYTES, MAX_CERTIFICATE_BYTES, MAX_CHECKLIST_ENVELOPE_BYTES, MAX_CHECKLIST_STEPS,
    MAX_CSR_BYTES, MAX_PREVIEW_FILE_BYTES, MAX_PREVIEW_FILES, MAX_PREVIEW_RECEIPTS, MAX_TERMS_CAPS,
    Message, Onboard, Onboarded, OverBudget, OverBudgetReason, PolicyDenial, ReceiptEnvelope,
    RegisterKey, Statement, Submit, TermsCap, TermsReply, TermsRequest, VerdictCode, VerdictReply,
    WireError, WireLimits,
};

#[test]
fn the_partner_guide_names_every_command_and_option() {
    let guide = doc("partner-guide.md");
    let mut commands = Vec::new();
    let mut options = BTreeSet::new();
    walk_help(&mut Vec::new(), &mut commands, &mut options);
    assert!(
        commands.len() >= 7 && options.contains("state-dir"),
        "the help was not read: {commands:?} {options:?}"
    );

    let mut missing: Vec<String> = commands
        .iter()
        .map(|path| format!("partner {}", path.join(" ")))
        .filter(|command| !names(&guide, command))
        .collect();
    missing.extend(
        options
            .iter()
            .map(|option| format!("--{option}"))
            .filter(|option| !names(&guide, option)),
    );
    assert!(
        missing.is_empty(),
        "docs/partner-guide.md does not name {missing:?}"
    );
}

#[test]
fn the_wire_protocol_names_every_message_and_error_code_with_its_tag() {
    let page = doc("wire-protocol.md");
    let mut missing = Vec::new();
    for (tag, name) in Message::NAMES.iter().enumerate() {
        if !page.contains(&format!("| {tag} | `{name}` |")) {
            missing.push(format!("message {name} (tag {tag})"));
        }
    }
    for (tag, name) in ErrorCode::NAMES.iter().enumerate() {
        if !page.contains(&format!("| {tag} | `{name}` |")) {
            missing.push(format!("error code {name} (tag {tag})"));
        }
    }
    // The byte layouts name every tag too: `Message`'s in its tag row, `ErrorCode`'s a row each.
    let message_layout = section(&page, "#### `Message`:");
    for (tag, name) in Message::NAMES.iter().enumerate() {
        if !message_layout.contains(&format!("{tag} `{name}`")) {
            missing.push(format!(
                "message {name} (tag {tag}) in the layout of `Message`"
            ));
        }
    }
    let code_layout = section(&page, "#### `ErrorCode`:");
    for (tag, name) in ErrorCode::NAMES.iter().enumerate() {
        if !code_layout.contains(&format!("| {tag} | `{name}` |")) {
            missing.push(format!(
                "error code {name} (tag {tag}) in the layout of `ErrorCode`"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/wire-protocol.md does not name with its tag {missing:?}"
    );
}

/// The text of `page` from the heading line starting with `heading` to the next heading.
fn section<'a>(page: &'a str, heading: &str) -> &'a str {
    let start = page
        .find(&format!("\n{heading}"))
        .unwrap_or_else(|| panic!("docs/wire-protocol.md has no heading {heading:?}"))
        + 1;
    let rest = &page[start..];
    let end = rest[1..].find("\n#").map_or(rest.len(), |at| at + 1);
    &rest[..end]
}

/// The names the wire crate lists are its variants' own, in tag order: each sample's `Debug`
/// form starts with its name, and its archived tag byte is the name's index.
#[test]
fn the_wire_crates_name_lists_spell_every_variant_in_tag_order() {
    let messages = sample_messages();
    assert_eq!(
        messages.iter().map(Message::name).collect::<Vec<_>>(),
        Message::NAMES,
        "one sample per message type, in declaration order"
    );
    for (tag, message) in messages.iter().enumerate() {
        assert!(
            spelled(&format!("{message:?}"), message.name()),
            "{message:?}"
        );
        // The `Message` is the body's last 184 bytes; its tag is its first.
        assert_eq!(usize::from(root(message)[0]), tag, "{message:?}");
    }
    let codes = sample_codes();
    assert_eq!(
        codes.iter().map(ErrorCode::name).collect::<Vec<_>>(),
        ErrorCode::NAMES,
        "one sample per error code, in declaration order"
    );
    for (tag, code) in codes.into_iter().enumerate() {
        let name = code.name();
        assert!(spelled(&format!("{code:?}"), name), "{code:?}");
        // The `ErrorReply` starts at 8, its code at 8 more.
        let message = Message::Error(ErrorReply {
            request_id: 0,
            code,
        });
        assert_eq!(usize::from(root(&message)[16]), tag, "{name}");
    }
}

#[test]
fn the_wire_protocols_layouts_and_example_frame_are_the_codes() {
    let page = doc("wire-protocol.md");
    let frame = example_frame(&page);
    let expected = example_message();
    let mut encoded = Vec::new();
    tf_wire::encode(&expected, &mut encoded).expect("encodes");
    assert_eq!(
        hex::encode(&frame),
        hex::encode(&encoded),
        "the example frame in docs/wire-protocol.md is not what the encoder writes"
    );
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    let archived = decoder.decode(&frame).expect("the example frame decodes");
    assert_eq!(tf_wire::to_owned(archived), expected);

    // Strings and lists have no type of their own here: measure them inside the example.
    let ArchivedMessage::Submit(submit) = archived else {
        panic!("the example is a Submit")
    };
    let ArchivedStatement::Groth16 { proof, .. } = &submit.statement else {
        panic!("the example is a Groth16 statement")
    };
    assert_eq!(
        (size_of_val(&submit.purpose), align_of_val(&submit.purpose)),
        (size_of_val(proof), align_of_val(proof)),
        "strings and lists share one heading"
    );

    let layouts = [
        layout::<ArchivedMessage>("`Message`"),
        layout::<ArchivedSubmit>("`Submit`"),
        layout::<ArchivedStatement>("`Statement`"),
        layout::<ArchivedDatasetClass>("`DatasetClass`"),
        layout::<ArchivedCurve>("`Curve`"),
        layout::<ArchivedVerdictCode>("`VerdictCode`"),
        layout::<ArchivedOverBudgetReason>("`OverBudgetReason`"),
        layout::<ArchivedVerdictReply>("`VerdictReply`"),
        layout::<ArchivedReceiptEnvelope>("`ReceiptEnvelope`"),
        layout::<ArchivedReceiptSignature>("`ReceiptSignature`"),
        layout::<ArchivedErrorReply>("`ErrorReply`"),
        layout::<ArchivedErrorCode>("`ErrorCode`"),
        layout::<ArchivedOverBudget>("`OverBudget`"),
        layout::<ArchivedCapState>("`CapState`"),
        layout::<ArchivedPolicyDenial>("`PolicyDenial`"),
        layout::<ArchivedRegisterKey>("`RegisterKey`"),
        layout::<ArchivedKeyRegistered>("`KeyRegistered`"),
        layout::<ArchivedBudgetQuery>("`BudgetQuery`"),
        layout::<ArchivedBudgetStatus>("`BudgetStatus`"),
        layout::<ArchivedLogProofQuery>("`LogProofQuery`"),
        layout::<ArchivedLogProof>("`LogProof`"),
        layout::<ArchivedAboutQuery>("`AboutQuery`"),
        layout::<ArchivedAbout>("`About`"),
        layout::<ArchivedOnboard>("`Onboard`"),
        layout::<ArchivedOnboarded>("`Onboarded`"),
        layout::<ArchivedTermsRequest>("`TermsRequest`"),
        layout::<ArchivedTermsCap>("`TermsCap`"),
        layout::<ArchivedTermsReply>("`TermsReply`"),
        layout::<ArchivedChecklistQuery>("`ChecklistQuery`"),
        layout::<ArchivedChecklist>("`Checklist`"),
        layout::<ArchivedChecklistStep>("`ChecklistStep`"),
        layout::<ArchivedEvidencePreviewQuery>("`EvidencePreviewQuery`"),
        layout::<ArchivedEvidencePreview>("`EvidencePreview`"),
        layout::<ArchivedEvidenceFile>("`EvidenceFile`"),
        (
            "Strings and lists",
            size_of_val(&submit.purpose),
            align_of_val(&submit.purpose),
        ),
    ];
    let missing: Vec<String> = layouts
        .iter()
        .filter(|(name, size, align)| !has_layout_heading(&page, name, *size, *align))
        .map(|(name, size, align)| format!("#### {name}: {size} bytes, alignment {align}"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/wire-protocol.md has no layout heading {missing:?}"
    );
}

/// The limits table under "Frames" gives each fixed limit its value and constant, and names
/// each field over it as the decoder's `Malformed` detail does: one message over each limit is
/// decoded, and the field and limit it is refused with are looked up in the row of that field.
#[test]
fn the_wire_protocols_limits_table_is_the_decoders() {
    let page = doc("wire-protocol.md");
    let frames = section(&page, "## Frames");
    let text = |len: usize| "a".repeat(len);
    let over = |limit: usize| limit + 1;
    // (the message over the limit, the table row's field, the constant the row names)
    let cases: Vec<(Message, &str, Option<&str>)> = vec![
        (
            Message::About(About {
                request_id: 1,
                tenant: text(over(MAX_ABOUT_TEXT_BYTES)),
                receipt_public_key: [0; 32],
                log_key: String::new(),
            }),
            "`About.tenant`",
            Some("MAX_ABOUT_TEXT_BYTES"),
        ),
        (
            Message::Onboard(Onboard {
                request_id: 1,
                invite_id: 1,
                secret: [0; 16],
                tenant: "initech".into(),
                csr: vec![0; over(MAX_CSR_BYTES)],
            }),
            "`Onboard.csr`",
            Some("MAX_CSR_BYTES"),
        ),
        (
            Message::Onboarded(Onboarded {
                request_id: 1,
                tenant: "initech".into(),
                certificate: vec![0; over(MAX_CERTIFICATE_BYTES)],
                ca_certificate: Vec::new(),
                receipt_public_key: [0; 32],
                log_key: String::new(),
                revision: 2,
            }),
            "`Onboarded.certificate`",
            Some("MAX_CERTIFICATE_BYTES"),
        ),
        (
            Message::TermsRequest(terms_request(vec![terms_cap("day"); over(MAX_TERMS_CAPS)])),
            "`TermsRequest.caps`",
            Some("MAX_TERMS_CAPS"),
        ),
        (
            Message::TermsRequest(terms_request(vec![terms_cap(&text(over(32)))])),
            "`TermsCap.window`",
            None,
        ),
        (
            Message::TermsReply(TermsReply {
                request_id: 1,
                terms_request: 3,
                revision: 4,
                detail: text(over(MAX_ABOUT_TEXT_BYTES)),
            }),
            "`TermsReply.detail`",
            Some("MAX_ABOUT_TEXT_BYTES"),
        ),
        (
            Message::Checklist(checklist(
                vec![checklist_step("keys", ""); over(MAX_CHECKLIST_STEPS)],
                String::new(),
            )),
            "`Checklist.steps`",
            Some("MAX_CHECKLIST_STEPS"),
        ),
        (
            Message::Checklist(checklist(
                vec![checklist_step(&text(over(64)), "")],
                String::new(),
            )),
            "`ChecklistStep.name`",
            None,
        ),
        (
            Message::Checklist(checklist(
                vec![checklist_step("keys", &text(over(MAX_ABOUT_TEXT_BYTES)))],
                String::new(),
            )),
            "`ChecklistStep.detail`",
            Some("MAX_ABOUT_TEXT_BYTES"),
        ),
        (
            Message::Checklist(checklist(
                Vec::new(),
                text(over(MAX_CHECKLIST_ENVELOPE_BYTES)),
            )),
            "`Checklist.envelope`",
            Some("MAX_CHECKLIST_ENVELOPE_BYTES"),
        ),
        (
            Message::EvidencePreviewQuery(EvidencePreviewQuery {
                request_id: 1,
                receipts: vec![1; over(MAX_PREVIEW_RECEIPTS)],
            }),
            "`EvidencePreviewQuery.receipts`",
            Some("MAX_PREVIEW_RECEIPTS"),
        ),
        (
            Message::EvidencePreview(evidence_preview(vec![
                evidence_file("budgets.json", 0);
                over(MAX_PREVIEW_FILES)
            ])),
            "`EvidencePreview.files`",
            Some("MAX_PREVIEW_FILES"),
        ),
        (
            Message::EvidencePreview(evidence_preview(vec![evidence_file(&text(over(128)), 0)])),
            "`EvidenceFile.path`",
            None,
        ),
        (
            Message::EvidencePreview(evidence_preview(vec![evidence_file(
                "budgets.json",
                over(MAX_PREVIEW_FILE_BYTES),
            )])),
            "`EvidenceFile.bytes`",
            Some("MAX_PREVIEW_FILE_BYTES"),
        ),
    ];
    let mut wrong = Vec::new();
    for (message, field, constant) in cases {
        let mut frame = Vec::new();
        tf_wire::encode(&message, &mut frame).expect("encodes");
        let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
        let Err(WireError::OverLimit {
            field: named,
            limit,
            ..
        }) = decoder.decode(&frame)
        else {
            panic!("{field} over its limit is not refused as over a limit");
        };
        let Some(row) = frames
            .lines()
            .find(|line| line.starts_with(&format!("| {field}")))
        else {
            wrong.push(format!("no row for {field}"));
            continue;
        };
        // `| field | limit | name in a detail |`
        let cells: Vec<&str> = row.split(" | ").collect();
        let (limit_cell, name_cell) = (cells.get(1).unwrap_or(&""), cells.get(2).unwrap_or(&""));
        if !limit_cell.starts_with(&format!("{limit} ")) {
            wrong.push(format!("{field}: the limit is {limit}: {row}"));
        }
        if let Some(c) = constant.filter(|c| !limit_cell.contains(&format!("(`{c}`)"))) {
            wrong.push(format!("{field}: the limit is `{c}`: {row}"));
        }
        if !name_cell.contains(&format!("`{named}`")) {
            wrong.push(format!("{field}: the detail names `{named}`: {row}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "the limits table of docs/wire-protocol.md is not the decoder's: {wrong:?}"
    );
}

/// One appliance, started on a fresh state directory and stopped: the demo tenant registers
/// keys and submits requests with `partner demo`, whose receipts and the state directory left
/// behind are checked against their pages.
#[test]
fn receipts_and_the_state_directory_are_named_as_a_real_appliance_leaves_them() {
    let mut server = Server::start("", &[], &[]);
    let out = server.dir.path().join("receipts");
    let demo = Command::new(server::partner_binary())
        .arg("--state-dir")
        .arg(&server.state)
        .arg("demo")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("partner demo runs");
    assert!(
        demo.status.success(),
        "partner demo: {}\n{}",
        String::from_utf8_lossy(&demo.stdout),
        String::from_utf8_lossy(&demo.stderr)
    );
    // Stop once the log has signed a checkpoint, so its files are there to be named too.
    let checkpoint = server.state.join("log/checkpoint");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !checkpoint.exists() {
        assert!(Instant::now() < deadline, "no checkpoint: {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = server.terminate();
    assert!(status.success(), "{}", server.log());

    check_receipts(&out);
    check_state_directory(&server.state);
}

/// Every key of the receipts `partner demo` saved (envelopes and decoded payloads), and of a
/// signed receipt with every optional field present, is named in docs/receipts.md.
fn check_receipts(out: &Path) {
    let mut keys = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(out).expect("the demo's receipts") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("a receipt");
        envelope_keys(&text, &mut keys);
        files += 1;
    }
    assert!(
        files > 0,
        "partner demo saved no receipt in {}",
        out.display()
    );
    // Optional fields are absent from some receipts (`reason` when valid, `budget_remaining`
    // when no cap applies): a receipt with all of them covers the schema.
    let mut signer = ReceiptSigner::from_secret(&[7; 32]);
    let mut full = receipts::sample_receipt(&signer, 1);
    full.reason = Some("why".into());
    full.budget_remaining = Some(1);
    envelope_keys(&signer.sign(full).to_json(), &mut keys);
    assert!(
        keys.contains("ledger_seq") && keys.contains("keyid"),
        "{keys:?}"
    );

    let page = doc("receipts.md");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|key| !page.contains(&format!("`{key}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/receipts.md does not name the receipt fields {missing:?}"
    );
}

/// Every file and folder in the state directory, as docs/state-directory.md names it:
/// per-tenant, per-key, per-tile, per-endpoint and per-packet names by their pattern.
fn check_state_directory(state: &Path) {
    let mut found = Vec::new();
    walk(state, state, &mut found);
    let names: BTreeSet<String> = found.iter().map(|path| pattern(path)).collect();
    for expected in [
        "ledger.sqlite",
        "log/checkpoint",
        "partner.toml",
        "tenants/<id>/keys",
        "verifying-keys/<key id>.<curve>",
    ] {
        assert!(names.contains(expected), "{expected} not left: {found:?}");
    }

    let page = doc("state-directory.md");
    let mut missing: Vec<String> = names
        .iter()
        .filter(|name| !page.contains(&format!("`{name}`")))
        .cloned()
        .collect();
    // The curves registered keys are stored under are spelled out too.
    missing.extend(
        found
            .iter()
            .filter_map(|path| path.strip_prefix("verifying-keys/"))
            .filter_map(|file| file.rsplit_once('.').map(|(_, curve)| curve.to_owned()))
            .filter(|curve| !page.contains(&format!("`{curve}`"))),
    );
    assert!(
        missing.is_empty(),
        "docs/state-directory.md does not name {missing:?} (found {found:?})"
    );
}

/// The documented name of a path in the state directory (folders end with `/`). Names that
/// vary are matched by pattern: `tenants/<id>/...`, `verifying-keys/<key id>.<curve>`,
/// `log/tile/<L>/<N>` and `log/tile/entries/<N>`, `webhooks/<id>.secrets`, and compliance
/// packets `compliance/snapshot-<period end>/` (their contents are docs/compliance.md's).
fn pattern(path: &str) -> String {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let folder = if path.ends_with('/') { "/" } else { "" };
    match parts.as_slice() {
        ["tenants", _, rest @ ..] => {
            let rest: String = rest.iter().map(|p| format!("/{p}")).collect();
            format!("tenants/<id>{rest}{folder}")
        }
        ["verifying-keys", file] if file.contains('.') && !file.ends_with(".partial") => {
            "verifying-keys/<key id>.<curve>".to_owned()
        }
        ["log", "tile", "entries", _, ..] => "log/tile/entries/<N>".to_owned(),
        ["log", "tile", level] if level.parse::<u8>().is_ok() => "log/tile/<L>/".to_owned(),
        ["log", "tile", level, _, ..] if level.parse::<u8>().is_ok() => {
            "log/tile/<L>/<N>".to_owned()
        }
        ["webhooks", file] if file.ends_with(".secrets") => "webhooks/<id>.secrets".to_owned(),
        ["compliance", packet, ..] if packet.starts_with("snapshot-") => {
            if packet.ends_with(".anchor.json") {
                "compliance/snapshot-<period end>.anchor.json".to_owned()
            } else {
                "compliance/snapshot-<period end>/".to_owned()
            }
        }
        _ => path.to_owned(),
    }
}

/// Every path under `dir`, relative to `root`, folders with a trailing `/`.
fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        let relative = path
            .strip_prefix(root)
            .expect("under the root")
            .to_str()
            .expect("UTF-8 names")
            .to_owned();
        if path.is_dir() {
            found.push(format!("{relative}/"));
            walk(root, &path, found);
        } else {
            found.push(relative);
        }
    }
}

/// Every key in a DSSE JSON envelope and in its decoded payload.
fn envelope_keys(text: &str, keys: &mut BTreeSet<String>) {
    let envelope: Value = serde_json::from_str(text).expect("a JSON envelope");
    json_keys(&envelope, keys);
    let payload = envelope["payload"].as_str().expect("a payload");
    let payload = STANDARD.decode(payload).expect("base64");
    let payload: Value = serde_json::from_slice(&payload).expect("a JSON payload");
    json_keys(&payload, keys);
}

fn json_keys(value: &Value, keys: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                keys.insert(key.clone());
                json_keys(value, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| json_keys(item, keys)),
        _ => {}
    }
}

/// Runs `partner <path> --help`, collects its commands (as paths) and options, and recurses
/// into each command; `help` is clap's own.
fn walk_help(
    path: &mut Vec<String>,
    commands: &mut Vec<Vec<String>>,
    options: &mut BTreeSet<String>,
) {
    let out = Command::new(server::partner_binary())
        .args(path.iter())
        .arg("--help")
        .output()
        .expect("partner runs");
    assert!(out.status.success(), "partner {path:?} --help failed");
    let help = String::from_utf8(out.stdout).expect("UTF-8 help");
    options.extend(help.lines().filter_map(option_name));
    for command in command_names(&help) {
        path.push(command);
        commands.push(path.clone());
        walk_help(path, commands, options);
        path.pop();
    }
}

/// The commands in a help text's `Commands:` section, without `help`.
fn command_names(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        // A command's line is indented two spaces; a wrapped description more.
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|command| *command != "help")
        .map(str::to_owned)
        .collect()
}

/// The long option a help line introduces (`  -h, --help ...`, `      --state-dir <DIR> ...`).
fn option_name(line: &str) -> Option<String> {
    let line = line.trim_start();
    let line = match line.as_bytes() {
        [b'-', short, b',', b' ', ..] if *short != b'-' => &line[4..],
        _ => line,
    };
    let name: String = line
        .strip_prefix("--")?
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Whether `page` names `name` as a whole word: not as the start of a longer name
/// (`partner receipt` inside `partner receipts`, `--key` inside `--key-id`).
fn names(page: &str, name: &str) -> bool {
    page.match_indices(name).any(|(at, _)| {
        !page[at + name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Whether `page` has a `####` heading naming `name` with this size and alignment.
fn has_layout_heading(page: &str, name: &str, size: usize, align: usize) -> bool {
    let unit = if size == 1 { "byte" } else { "bytes" };
    let tail = format!(": {size} {unit}, alignment {align}");
    page.lines()
        .any(|line| line.starts_with("#### ") && line.contains(name) && line.ends_with(&tail))
}

fn layout<T>(name: &'static str) -> (&'static str, usize, usize) {
    (name, size_of::<T>(), align_of::<T>())
}

/// The bytes of the example frame: the `text` block after its heading, one `label: hex ...`
/// line at a time.
fn example_frame(page: &str) -> Vec<u8> {
    let heading = "### Example: a `Submit` frame";
    let after = &page[page.find(heading).expect("the example's heading")..];
    let block = after
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a text block after the example's heading");
    block
        .lines()
        .filter_map(|line| line.split_once(':'))
        .flat_map(|(_, bytes)| bytes.split_whitespace())
        .map(|byte| u8::from_str_radix(byte, 16).expect("hex bytes"))
        .collect()
}

/// The message the example frame describes.
fn example_message() -> Message {
    let mut seven = [0u8; 32];
    seven[0] = 7;
    Message::Submit(Submit {
        request_id: 42,
        purpose: "fraud-check".into(),
        dataset_class: DatasetClass::P1,
        statement: Statement::Groth16 {
            curve: Curve::Bn254,
            key_id: [0x11; 32],
            proof: vec![0x22; 4],
            public_inputs: vec![seven],
        },
    })
}

/// The archived `Message` at the end of a message's frame.
fn root(message: &Message) -> Vec<u8> {
    let mut frame = Vec::new();
    tf_wire::encode(message, &mut frame).expect("encodes");
    let root = size_of::<ArchivedMessage>();
    frame[frame.len() - root..].to_vec()
}

/// Whether a `Debug` form starts with the variant `name` (not a longer one).
fn spelled(debug: &str, name: &str) -> bool {
    debug
        .strip_prefix(name)
        .is_some_and(|rest| !rest.starts_with(char::is_alphanumeric))
}

/// One message of each type, in declaration order.
fn sample_messages() -> Vec<Message> {
    vec![
        example_message(),
        Message::Verdict(VerdictReply {
            request_id: 1,
            verdict: VerdictCode::Valid,
            reason: String::new(),
            statement_digest: [0; 32],
            receipt: ReceiptEnvelope {
                payload_type: String::new(),
                payload: Vec::new(),
                signatures: Vec::new(),
            },
        }),
        Message::Error(ErrorReply {
            request_id: 1,
            code: ErrorCode::Internal,
        }),
        Message::RegisterKey(RegisterKey {
            request_id: 1,
            curve: Curve::Bn254,
            key: Vec::new(),
        }),
        Message::KeyRegistered(KeyRegistered {
            request_id: 1,
            key_id: [0; 32],
        }),
        Message::BudgetQuery(BudgetQuery { request_id: 1 }),
        Message::BudgetStatus(BudgetStatus {
            request_id: 1,
            caps: vec![cap()],
        }),
        Message::LogProofQuery(LogProofQuery {
            request_id: 1,
            index: 1,
        }),
        Message::LogProof(LogProof {
            request_id: 1,
            checkpoint: String::new(),
            index: 1,
            tree_size: 2,
            hashes: Vec::new(),
        }),
        Message::AboutQuery(AboutQuery { request_id: 1 }),
        Message::About(About {
            request_id: 1,
            tenant: String::new(),
            receipt_public_key: [0; 32],
            log_key: String::new(),
        }),
        Message::Onboard(Onboard {
            request_id: 1,
            invite_id: 1,
            secret: [0; 16],
            tenant: "initech".into(),
            csr: Vec::new(),
        }),
        Message::Onboarded(Onboarded {
            request_id: 1,
            tenant: "initech".into(),
            certificate: Vec::new(),
            ca_certificate: Vec::new(),
            receipt_public_key: [0; 32],
            log_key: String::new(),
            revision: 2,
        }),
        Message::TermsRequest(terms_request(vec![terms_cap("day")])),
        Message::TermsReply(TermsReply {
            request_id: 1,
            terms_request: 3,
            revision: 0,
            detail: "waiting for an operator's approval (request 3): rate 500 above the \
                     template's 100"
                .into(),
        }),
        Message::ChecklistQuery(ChecklistQuery {
            request_id: 1,
            sandbox_receipt: 7,
            first_receipt: 0,
        }),
        Message::Checklist(checklist(
            vec![
                checklist_step("onboarded", "invite 3 used 2026-11-24T10:00:00Z"),
                ChecklistStep {
                    name: "first-verdict".into(),
                    done: false,
                    detail: "submit a valid proof for one of your purposes and name its receipt"
                        .into(),
                },
            ],
            String::new(),
        )),
        Message::EvidencePreviewQuery(EvidencePreviewQuery {
            request_id: 1,
            receipts: vec![12, 40],
        }),
        Message::EvidencePreview(evidence_preview(vec![evidence_file("budgets.json", 120)])),
    ]
}

fn checklist(steps: Vec<ChecklistStep>, envelope: String) -> Checklist {
    Checklist {
        request_id: 1,
        steps,
        envelope,
    }
}

fn checklist_step(name: &str, detail: &str) -> ChecklistStep {
    ChecklistStep {
        name: name.into(),
        done: true,
        detail: detail.into(),
    }
}

fn terms_request(caps: Vec<TermsCap>) -> TermsRequest {
    TermsRequest {
        request_id: 1,
        rate_per_sec: 500,
        burst: 100,
        max_registered_keys: 8,
        caps,
    }
}

fn terms_cap(window: &str) -> TermsCap {
    TermsCap {
        dataset_class: DatasetClass::P1,
        window: window.into(),
        limit: 1000,
    }
}

/// One error code of each kind, in declaration order.
fn sample_codes() -> Vec<ErrorCode> {
    let text = String::new;
    vec![
        ErrorCode::Busy { retry_after_ms: 1 },
        ErrorCode::OverBudget(OverBudget {
            cap: cap(),
            requested: 1,
            contact: text(),
            reason: OverBudgetReason::Cap,
        }),
        ErrorCode::Denied { reason: text() },
        ErrorCode::UnknownKey { key_id: [0; 32] },
        ErrorCode::Malformed { detail: text() },
        ErrorCode::UnsupportedVersion { supported: 1 },
        ErrorCode::Internal,
        ErrorCode::ShuttingDown,
        ErrorCode::KeyRefused { detail: text() },
        ErrorCode::DeniedByPolicy(PolicyDenial {
            revision: 1,
            bundle_hash: [0; 32],
            policies: Vec::new(),
            request: text(),
        }),
        ErrorCode::NotInLogYet {
            index: 1,
            tree_size: 1,
            retry_after_ms: 1,
        },
        ErrorCode::LogUnavailable { detail: text() },
        ErrorCode::Unavailable {
            retry_after_ms: 1,
            detail: text(),
        },
        ErrorCode::OnboardingRefused {
            reason: "used".into(),
            detail: text(),
        },
    ]
}

fn cap() -> CapState {
    CapState {
        tenant: "demo".into(),
        purpose: String::new(),
        dataset_class: DatasetClass::P0,
        window: "day".into(),
        limit: 1,
        used: 0,
        reserved: 0,
        remaining: 1,
        resets_at_unix_ms: 0,
        granted: 1,
    }
}

/// The ```yaml blocks of a page, each parsed by PyYAML (as CI services read YAML 1.1) and
/// given back as JSON.
fn yaml_blocks(page: &str) -> Vec<Value> {
    let mut blocks = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + "```yaml\n".len()..];
        let end = body.find("```").expect("a closed yaml block");
        let parsed = Command::new("/usr/bin/python3")
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.argv[1]), default=str))",
                &body[..end],
            ])
            .output()
            .expect("python3 runs (tests/run installs python3-yaml)");
        assert!(
            parsed.status.success(),
            "not YAML:\n{}\n{}",
            &body[..end],
            String::from_utf8_lossy(&parsed.stderr)
        );
        blocks.push(serde_json::from_slice(&parsed.stdout).expect("JSON"));
        rest = &body[end + 3..];
    }
    blocks
}

#[test]
fn the_drift_guards_ci_jobs_are_yaml_and_record_who_overrode() {
    let blocks = yaml_blocks(&doc("drift-guard.md"));
    let github = blocks
        .iter()
        .find(|b| b.get("jobs").is_some())
        .expect("the GitHub Actions workflow");
    // YAML 1.1 reads the key `on` as true.
    let on = github
        .get("on")
        .or_else(|| github.get("true"))
        .expect("on:");
    let types = on["pull_request"]["types"].as_array().expect("event types");
    assert!(
        types.iter().any(|t| t == "labeled") && types.iter().any(|t| t == "synchronize"),
        "the guard runs again when the override label is added, and on every push: {on}"
    );
    let steps = github["jobs"]["drift"]["steps"].as_array().expect("steps");
    let guard = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("drift-guard.sh"))
        })
        .expect("the step that runs the guard");
    let by = guard["env"]["DRIFT_OVERRIDE_BY"]
        .as_str()
        .expect("DRIFT_OVERRIDE_BY");
    assert!(
        by.contains("github.event.sender.login") && !by.contains("pull_request.user"),
        "the approver is whoever added the label, never the pull request's author: {by}"
    );
    // Only the run the label starts carries the override, and only that label starts one: a
    // push is judged without it.
    for name in ["DRIFT_OVERRIDE_BY", "DRIFT_OVERRIDE_REASON"] {
        let value = guard["env"][name].as_str().expect("set");
        assert!(
            value.starts_with("${{ github.event.action == 'labeled' &&"),
            "{name} only on the labeled run: {value}"
        );
    }
    let condition = github["jobs"]["drift"]["if"]
        .as_str()
        .expect("the job's if");
    assert!(
        condition.contains("github.event.label.name == 'drift-override'"),
        "{condition}"
    );

    let gitlab = blocks
        .iter()
        .find(|b| b.get("drift-guard").is_some())
        .expect("the GitLab CI job")["drift-guard"]
        .clone();
    let script: Vec<&str> = gitlab["script"]
        .as_array()
        .expect("script")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let at = |what: &str| script.iter().position(|line| line.contains(what));
    let guard = at("drift-guard.sh").expect("the guard runs");
    assert!(
        at("-o appliance").is_some_and(|install| install < guard),
        "the job gets the appliance binary before it runs the guard: {script:?}"
    );
    let approver = at("GITLAB_USER_LOGIN").expect("the approver's line");
    assert!(
        approver < guard
            && script[approver].starts_with("if [ -n \"${DRIFT_OVERRIDE_REASON:-}\" ]"),
        "an override names whoever started the pipeline, only when one was asked for: {script:?}"
    );
}

/// A page of docs/.
fn doc(name: &str) -> String {
    let path = support::root().join("docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn evidence_preview(files: Vec<EvidenceFile>) -> EvidencePreview {
    EvidencePreview {
        request_id: 1,
        files,
    }
}

fn evidence_file(path: &str, len: usize) -> EvidenceFile {
    EvidenceFile {
        path: path.to_owned(),
        bytes: vec![0; len],
    }
}
