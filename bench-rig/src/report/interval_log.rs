//! The latency log in the HdrHistogram interval log format (version 1.3, compressed V2
//! histograms), one histogram per second of the measured run, values in microseconds, so the
//! standard HdrHistogram tools (HistogramLogProcessor, HdrHistogramVisualizer) read it.

use std::io::Write;
use std::time::Duration;

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;

use crate::driver::Measured;

/// Writes the log of `measured` to `out`.
pub fn write(out: &mut Vec<u8>, measured: &Measured) -> std::io::Result<()> {
    let start = measured.measured_from_unix;
    writeln!(out, "#[Histogram log format version 1.3]")?;
    writeln!(
        out,
        "#[Trust Fabric bench-rig: request latency in microseconds, 1 s intervals by completion time]"
    )?;
    writeln!(out, "#[StartTime: {start:.3} (seconds since epoch)]")?;
    writeln!(out, "#[BaseTime: {start:.3} (seconds since epoch)]")?;
    writeln!(
        out,
        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
    )?;
    let mut serializer = V2DeflateSerializer::new();
    let mut body = Vec::new();
    {
        // Interval_Max in milliseconds, as the Java tools print it for microsecond values.
        let mut writer = IntervalLogWriterBuilder::new()
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut body, &mut serializer)?;
        for (second, interval) in measured.recorder.intervals.iter().enumerate() {
            writer
                .write_histogram(
                    &interval.tally.latency,
                    Duration::from_secs(second as u64),
                    Duration::from_secs(1),
                    None,
                )
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
    }
    out.extend_from_slice(&body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    use super::*;
    use crate::mix::Kind;
    use crate::recorder::{Outcome, Recorder};
    use crate::schedule::Slot;

    #[test]
    fn the_standard_reader_reads_back_every_interval() {
        let mut recorder = Recorder::new(Duration::ZERO, 1, 1);
        for (at_ms, latency_ms) in [(100, 5), (200, 7), (1_100, 40)] {
            let slot = Slot {
                at: Duration::from_millis(at_ms),
                stage: 0,
                tenant: 0,
            };
            recorder.sent(&slot, Kind::Bls);
            recorder.finished(
                &slot,
                Kind::Bls,
                &Outcome::Error("busy"),
                Duration::from_millis(at_ms + latency_ms),
            );
        }
        let measured = Measured {
            recorder,
            measured_from_unix: 1_700_000_000.0,
            measured_seconds: 2.0,
            usage: None,
            rig_cpu_seconds: 0.0,
            interrupted: false,
            reconnects: 0,
            host_probe_ms: Vec::new(),
        };
        let mut log = Vec::new();
        write(&mut log, &measured).unwrap();
        let mut histograms = Vec::new();
        let mut start_time = None;
        for entry in IntervalLogIterator::new(&log) {
            match entry.expect("parses") {
                LogEntry::StartTime(t) => start_time = Some(t),
                LogEntry::Interval(interval) => histograms.push((
                    interval.start_timestamp(),
                    interval.max(),
                    interval.encoded_histogram().to_string(),
                )),
                LogEntry::BaseTime(_) => {}
            }
        }
        assert_eq!(start_time, Some(Duration::from_secs(1_700_000_000)));
        assert_eq!(histograms.len(), 2);
        assert_eq!(histograms[1].0, Duration::from_secs(1));
        assert!(
            (histograms[1].1 - 40.0).abs() < 0.1,
            "max in ms: {}",
            histograms[1].1
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&histograms[0].2)
            .expect("base64");
        let h: hdrhistogram::Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .expect("a V2 histogram");
        assert_eq!(h.len(), 2);
        assert_eq!(h.max() / 1000, 7);
    }
}
