//! Writing the Prometheus text exposition format (version 0.0.4).

use std::fmt::Write as _;

use super::histogram::Histogram;

/// A metrics page being written.
#[derive(Debug, Default)]
pub struct Page {
    text: String,
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn number(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{value}")
    }
}

impl Page {
    /// Starts a metric family: its HELP and TYPE lines.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// One sample.
    pub fn sample(&mut self, name: &str, pairs: &[(&str, &str)], value: f64) {
        let _ = writeln!(self.text, "{name}{} {}", labels(pairs), number(value));
    }

    /// A histogram's buckets, sum and count.
    pub fn histogram(&mut self, name: &str, pairs: &[(&str, &str)], histogram: &Histogram) {
        for (bound, count) in histogram.cumulative() {
            let le = number(bound);
            let mut with_le = pairs.to_vec();
            with_le.push(("le", &le));
            self.sample(&format!("{name}_bucket"), &with_le, count as f64);
        }
        self.sample(&format!("{name}_sum"), pairs, histogram.sum());
        self.sample(&format!("{name}_count"), pairs, histogram.count() as f64);
    }

    /// The finished page.
    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_infinity_is_spelled_as_prometheus_does() {
        let mut page = Page::default();
        page.family("x_total", "counter", "An example.");
        page.sample("x_total", &[("tenant", "a\"b\\c")], 3.0);
        let mut histogram = Histogram::new(&[1.0]);
        histogram.record(0.5);
        page.histogram("y_seconds", &[], &histogram);
        let text = page.finish();
        assert!(
            text.contains("x_total{tenant=\"a\\\"b\\\\c\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("y_seconds_bucket{le=\"+Inf\"} 1\n"), "{text}");
        assert!(text.contains("y_seconds_count 1\n"), "{text}");
    }
}
