//! The command line as people used to other CLIs expect it: shell completions that complete,
//! a suggestion for a mistyped command, and the exit code systemd keys on for a configuration
//! that never loads (tests/preflight_cli.rs checks each command's 78 in detail).

mod support;

use std::process::Command;

use support::appliance;

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What bash offers after `words` (the last one being completed), with the script loaded.
fn bash_completes(script: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("appliance.bash");
    std::fs::write(&path, script).expect("written");
    let program = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
         COMP_POINT=${{#COMP_LINE}}; _appliance appliance \"${{COMP_WORDS[-1]}}\" \
         \"${{COMP_WORDS[-2]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        words.join(" "),
        words.len() - 1,
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn completions_complete_commands_and_their_subcommands() {
    let out = appliance(&["completions", "bash"]);
    assert!(out.status.success(), "{}", text(&out));
    let script = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(bash_completes(&script, &["appliance", "web"]), ["webhooks"]);
    let ctl = bash_completes(&script, &["appliance", "ctl", "webhooks", "re"]);
    for expected in ["remove", "replay", "resume"] {
        assert!(ctl.iter().any(|c| c == expected), "{expected} in {ctl:?}");
    }
    assert_eq!(bash_completes(&script, &["appliance", "ser"]), ["serve"]);

    for (shell, marker) in [
        ("zsh", "#compdef appliance"),
        ("fish", "complete -c appliance"),
    ] {
        let out = appliance(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains(marker) && script.contains("webhooks"),
            "{shell}"
        );
    }
    let out = appliance(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("bash"),
        "the shells on offer: {}",
        text(&out)
    );
}

#[test]
fn a_mistyped_command_gets_a_suggestion() {
    let out = appliance(&["sevre"]);
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("'serve'"), "{message}");
    let out = appliance(&["ctl", "webhooks", "replya"]);
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("'replay'"), "{message}");
}
