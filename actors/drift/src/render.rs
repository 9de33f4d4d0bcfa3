//! A drift report for people (a terminal summary), for a pull request (Markdown) and for
//! tools (JSON, the [`Report`] as it is).

use std::fmt::Write;

use tf_budgets::format_utc;

use crate::compare::{Judgement, Report};

/// Groups shown in full; the rest are counted.
const GROUPS_SHOWN: usize = 20;

fn time(us: u64) -> String {
    format_utc(us / 1_000_000)
}

fn percent(rate: f64) -> String {
    format!("{:.3} %", rate * 100.0)
}

/// The verdict line for a terminal; an override comes first.
pub fn headline(report: &Report) -> String {
    led_by(report, |by, reason| {
        format!("OVERRIDDEN by {} ({})", clean(by), clean(reason))
    })
}

/// The same for Markdown: the approver's words in code spans, where no link, image, mention
/// or emphasis they hold takes effect.
fn markdown_headline(report: &Report) -> String {
    led_by(report, |by, reason| {
        format!("OVERRIDDEN by `{}` (`{}`)", escape(by), escape(reason))
    })
}

/// The verdict, after the override (`approver` words it) if there is one.
fn led_by(report: &Report, approver: impl Fn(&str, &str) -> String) -> String {
    match &report.overridden {
        Some(approval) => format!(
            "{}: {}",
            approver(&approval.by, &approval.reason),
            verdict(report)
        ),
        None => verdict(report),
    }
}

fn verdict(report: &Report) -> String {
    let bound = percent(report.upper_bound);
    let tolerance = percent(report.tolerance);
    match report.judgement {
        Judgement::Pass => format!(
            "PASS: drift is at most {bound} ({:.0} % confidence), within the tolerance of {tolerance}",
            report.confidence * 100.0
        ),
        Judgement::Block => format!(
            "BLOCK: drift may be up to {bound} ({:.0} % confidence), over the tolerance of {tolerance}",
            report.confidence * 100.0
        ),
        Judgement::TooFewDecisions => format!(
            "TOO FEW DECISIONS: {} in the window; bounding drift within {tolerance} needs at least {} \
             (widen --window, or export a larger sample)",
            report.sample.decisions, report.decisions_needed
        ),
    }
}

fn sample_line(report: &Report) -> String {
    let s = &report.sample;
    let short = |hash: &str| hash.chars().take(12).collect::<String>();
    let mut line = format!(
        "{} decisions from {} to {} ({} run{}), replayed under the baseline, revision {} \
         (bundle {}), and the candidate, revision {} (bundle {})",
        s.decisions,
        time(s.first_us.max(s.from_us)),
        time(if s.last_us == 0 { s.to_us } else { s.last_us }),
        s.runs,
        if s.runs == 1 { "" } else { "s" },
        report.baseline.revision,
        short(&report.baseline.hash),
        report.candidate.revision,
        short(&report.candidate.hash),
    );
    if s.warmup_decisions > 0 {
        let _ = write!(
            line,
            "; {} earlier decisions replayed first to bring budgets to where they stood",
            s.warmup_decisions
        );
    }
    if s.not_recorded > 0 {
        let _ = write!(
            line,
            "; {} decisions were made but not recorded (the log fell behind) and are not judged",
            s.not_recorded
        );
    }
    line
}

/// A terminal summary.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(report));
    let _ = writeln!(out, "{}", sample_line(report));
    let _ = writeln!(
        out,
        "{} flip{} ({} of decisions)",
        report.flips,
        if report.flips == 1 { "" } else { "s" },
        percent(report.rate)
    );
    for change in &report.changes {
        let _ = writeln!(out, "  {:>8}  {}", change.count, change.change);
    }
    for group in report.groups.iter().take(GROUPS_SHOWN) {
        let _ = writeln!(
            out,
            "\n{} × {} · tenant {} · purpose {:?} · {} · decided by {}",
            group.count,
            group.change,
            clean(&group.tenant),
            clean(&group.purpose),
            group.class,
            clean(&group.decided_by)
        );
        let _ = writeln!(
            out,
            "  first {}  last {}",
            time(group.first_us),
            time(group.last_us)
        );
        for example in &group.examples {
            let key = example
                .key
                .as_deref()
                .map(|k| format!(" key {}…", &k[..k.len().min(16)]))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  e.g. {} {}{}: {} → {}",
                time(example.at_us),
                clean(&example.kind),
                key,
                clean(or_dash(&example.before)),
                clean(or_dash(&example.after))
            );
        }
    }
    if report.groups.len() > GROUPS_SHOWN {
        let _ = writeln!(
            out,
            "\n… and {} more groups (--format json lists them all)",
            report.groups.len() - GROUPS_SHOWN
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    out
}

/// A pull-request comment.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let mark = match (report.judgement, &report.overridden) {
        (Judgement::Pass, _) => "✅",
        (_, Some(_)) => "⚠️",
        _ => "⛔",
    };
    let _ = writeln!(out, "### {mark} Policy drift guard\n");
    let _ = writeln!(out, "**{}**\n", markdown_headline(report));
    let _ = writeln!(out, "{}.\n", sample_line(report));
    let _ = writeln!(
        out,
        "| | |\n|---|---|\n| flips | {} |\n| drift rate | {} |\n| upper bound ({:.0} %) | {} |\n| tolerance | {} |\n",
        report.flips,
        percent(report.rate),
        report.confidence * 100.0,
        percent(report.upper_bound),
        percent(report.tolerance)
    );
    if !report.groups.is_empty() {
        let _ = writeln!(
            out,
            "| flips | change | tenant | purpose | class | decided by | first | last |\n|---:|---|---|---|---|---|---|---|"
        );
        for group in report.groups.iter().take(GROUPS_SHOWN) {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | `{}` | {} | {} | {} | {} |",
                group.count,
                group.change,
                escape(&group.tenant),
                escape(&group.purpose),
                group.class,
                escape(&group.decided_by),
                time(group.first_us),
                time(group.last_us)
            );
        }
        if report.groups.len() > GROUPS_SHOWN {
            let _ = writeln!(
                out,
                "\n… and {} more groups.",
                report.groups.len() - GROUPS_SHOWN
            );
        }
    }
    for note in &report.notes {
        let _ = writeln!(out, "\n_Note: {}_", escape(note));
    }
    out
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// Keeps table cells whole and the comment's structure the report's: a `|` would end the
/// cell, a backtick a code span, a line break the row. Partners choose purposes.
fn escape(text: &str) -> String {
    clean(text).replace('|', "\\|").replace('`', "'")
}

/// What a partner chose (a purpose) printed without control characters, which could move a
/// terminal's cursor or break a line.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
