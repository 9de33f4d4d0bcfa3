//! The main thread's view of the shards for the service manager: READY=1 once every shard
//! listens, a STATUS= line with the live rate, WATCHDOG=1 only while every shard's pulse keeps
//! moving (a stuck shard stops the pings and systemd restarts the appliance), STOPPING=1 on
//! drain.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tf_seam::{Board, PulseReading};

use super::notify::{self, Notifier};

/// How often the STATUS= line is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// How long a shard may show no pulse before it is called stuck when systemd's watchdog is off
/// (the stall is still logged).
const STALL_WITHOUT_WATCHDOG: Duration = Duration::from_secs(10);
/// Shortest progress check: a few of the shards' pulses (tf-dataplane shard.rs `PULSE_EVERY`) must
/// fit in it.
const MIN_CHECK: Duration = Duration::from_millis(500);
/// How long a shard may owe answers while delivering none before it is called stalled: far
/// above any verification batch or commit, so only a stopped pipeline trips it.
const UNANSWERED_LIMIT: Duration = Duration::from_secs(10);

/// Readiness, status and watchdog for one run of `serve`.
#[derive(Debug)]
pub struct Supervisor {
    notifier: Option<Notifier>,
    watchdog: bool,
    check_every: Duration,
    next_check: Instant,
    checked: Vec<PulseReading>,
    stuck: Vec<usize>,
    /// Per shard: since when it owes answers without delivering any (or the last check at
    /// which it owed none or delivered some).
    answering_since: Vec<Instant>,
    stalled: Vec<usize>,
    next_status: Instant,
    status_from: (Instant, u64),
}

impl Supervisor {
    /// Reads `$NOTIFY_SOCKET` and `$WATCHDOG_USEC`.
    pub fn from_env(shards: usize, now: Instant) -> Self {
        let interval = notify::watchdog_interval();
        // systemd's advice: ping at half the interval, so one late check is not a restart.
        let check_every = interval
            .map(|i| (i / 2).max(MIN_CHECK))
            .unwrap_or(STALL_WITHOUT_WATCHDOG);
        Supervisor {
            notifier: Notifier::from_env(),
            watchdog: interval.is_some(),
            check_every,
            next_check: now + check_every,
            checked: vec![PulseReading::default(); shards],
            stuck: Vec::new(),
            answering_since: vec![now; shards],
            stalled: Vec::new(),
            next_status: now,
            status_from: (now, 0),
        }
    }

    /// Tells the service manager what start-up is doing.
    pub fn starting(&self, what: &str) {
        self.send(&format!("STATUS=starting: {what}"));
    }

    /// Every shard listens: READY=1.
    pub fn ready(&mut self, bound: SocketAddr, shards: usize, board: &Board, now: Instant) {
        self.send(&format!(
            "READY=1\nSTATUS=listening on {bound} (QUIC) with {shards} shard(s)"
        ));
        self.checked = board.pulses();
        self.answering_since = vec![now; self.checked.len()];
        self.next_check = now + self.check_every;
        self.status_from = (now, total_answered(&self.checked));
        self.next_status = now + STATUS_EVERY;
    }

    /// Called every few milliseconds while serving: pings the watchdog if every shard made
    /// progress since the last check, refreshes the status line.
    pub fn tick(&mut self, board: &Board, now: Instant) {
        if now >= self.next_check {
            self.next_check = now + self.check_every;
            let pulses = board.pulses();
            self.check_answering(&pulses, now);
            let mut stuck = stuck_shards(&self.checked, &pulses);
            stuck.extend(&self.stalled);
            stuck.sort_unstable();
            stuck.dedup();
            if stuck.is_empty() {
                if !self.stuck.is_empty() {
                    tracing::info!("every shard is making progress again");
                }
                if self.watchdog {
                    self.send("WATCHDOG=1");
                }
            } else if stuck != self.stuck {
                tracing::error!(
                    shards = ?stuck,
                    seconds = self.check_every.as_secs_f64(),
                    watchdog = self.watchdog,
                    "shard(s) made no progress; the watchdog is not pinged, so systemd restarts \
                     the appliance"
                );
            }
            board.set_stuck(!stuck.is_empty());
            self.stuck = stuck;
            self.checked = pulses;
        }
        if now >= self.next_status {
            self.next_status = now + STATUS_EVERY;
            let pulses = board.pulses();
            let answered = total_answered(&pulses);
            let (since, before) = self.status_from;
            let seconds = now.saturating_duration_since(since).as_secs_f64();
            let rate = if seconds > 0.0 {
                answered.saturating_sub(before) as f64 / seconds
            } else {
                0.0
            };
            let connections: u64 = pulses.iter().map(|p| p.connections).sum();
            self.status_from = (now, answered);
            self.send(&format!(
                "STATUS=serving {rate:.0} answers/s, {connections} connection(s), {} shard(s){}",
                pulses.len(),
                if self.stuck.is_empty() {
                    String::new()
                } else {
                    format!(", STUCK: shard(s) {:?}", self.stuck)
                }
            ));
        }
    }

    /// Finds shards that owe answers and delivered none for [`UNANSWERED_LIMIT`]: their
    /// executor still beats, but a request path behind it (verifier, ledger, a channel) has
    /// stopped. Partners would otherwise see nothing until their connections time out.
    fn check_answering(&mut self, pulses: &[PulseReading], now: Instant) {
        let mut stalled = Vec::new();
        for (shard, (before, reading)) in self.checked.iter().zip(pulses).enumerate() {
            let since = &mut self.answering_since[shard];
            if reading.owed == 0 || reading.answered != before.answered {
                *since = now;
            } else if now.saturating_duration_since(*since) >= UNANSWERED_LIMIT {
                stalled.push(shard);
                if !self.stalled.contains(&shard) {
                    tracing::error!(
                        shard,
                        owed = reading.owed,
                        answered = reading.answered,
                        seconds = now.saturating_duration_since(*since).as_secs(),
                        "shard owes answers and delivered none; its verifier, the ledger or a \
                         channel between them has stopped"
                    );
                }
            }
        }
        for shard in &self.stalled {
            if !stalled.contains(shard) {
                tracing::info!(shard, "shard is answering again");
            }
        }
        self.stalled = stalled;
    }

    /// A reload (SIGHUP) is being applied.
    pub fn reloading(&self) {
        self.send("RELOADING=1\nSTATUS=reloading the configuration");
    }

    /// The reload is done; serving as before.
    pub fn reloaded(&mut self) {
        self.send("READY=1");
        self.next_status = Instant::now();
    }

    /// The drain has begun: STOPPING=1.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=draining: answering requests in flight");
    }

    fn send(&self, message: &str) {
        if let Some(notifier) = &self.notifier {
            notifier.send(message);
        }
    }
}

/// Shards whose pulse has not moved between two readings.
fn stuck_shards(before: &[PulseReading], now: &[PulseReading]) -> Vec<usize> {
    before
        .iter()
        .zip(now)
        .enumerate()
        .filter(|(_, (before, now))| now.beats == before.beats)
        .map(|(shard, _)| shard)
        .collect()
}

fn total_answered(pulses: &[PulseReading]) -> u64 {
    pulses.iter().map(|p| p.answered).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(beats: u64) -> PulseReading {
        PulseReading {
            beats,
            ..PulseReading::default()
        }
    }

    #[test]
    fn a_shard_whose_pulse_did_not_move_is_stuck() {
        let before = [reading(3), reading(7), reading(0)];
        let now = [reading(4), reading(7), reading(0)];
        assert_eq!(stuck_shards(&before, &now), vec![1, 2]);
        assert!(stuck_shards(&now, &[reading(5), reading(8), reading(1)]).is_empty());
    }

    #[test]
    fn the_watchdog_is_pinged_only_while_every_shard_beats() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notify");
        let manager = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
        manager.set_nonblocking(true).expect("nonblocking");
        let board = Board::new(2);
        let start = Instant::now();
        let notifier = Notifier::open(path.to_str().expect("utf-8")).expect("notifier");
        let mut supervisor = watching_two_shards(&board, Some(notifier), start);
        let received = || {
            let mut buffer = [0u8; 256];
            let mut messages = Vec::new();
            while let Ok(n) = manager.recv(&mut buffer) {
                messages.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
            }
            messages
        };
        board.beat(0, pulse(1, 0));
        supervisor.tick(&board, start + MIN_CHECK);
        assert_eq!(supervisor.stuck, vec![1]);
        assert!(received().is_empty(), "no ping while shard 1 is stuck");
        board.beat(0, pulse(2, 0));
        board.beat(1, pulse(5, 0));
        supervisor.tick(&board, start + MIN_CHECK * 2);
        assert!(supervisor.stuck.is_empty());
        assert_eq!(received(), vec!["WATCHDOG=1".to_string()]);
    }

    /// A supervisor of two shards with the watchdog on, first checking at `start`, with no
    /// status line due within the test.
    fn watching_two_shards(
        board: &Board,
        notifier: Option<Notifier>,
        start: Instant,
    ) -> Supervisor {
        Supervisor {
            notifier,
            watchdog: true,
            check_every: MIN_CHECK,
            next_check: start,
            checked: board.pulses(),
            stuck: Vec::new(),
            answering_since: vec![start; 2],
            stalled: Vec::new(),
            next_status: start + Duration::from_secs(3600),
            status_from: (start, 0),
        }
    }

    fn pulse(answered: u64, owed: u64) -> PulseReading {
        PulseReading {
            answered,
            owed,
            connections: 1,
            ..PulseReading::default()
        }
    }

    #[test]
    fn a_beating_shard_that_owes_answers_and_delivers_none_is_stalled() {
        let board = Board::new(2);
        let start = Instant::now();
        let mut supervisor = watching_two_shards(&board, None, start);
        // Shard 0 owes 3 and answers nothing; shard 1 owes 2 but keeps answering.
        let mut at = start;
        let mut answered_1 = 0;
        while at < start + UNANSWERED_LIMIT + MIN_CHECK {
            at += MIN_CHECK;
            answered_1 += 1;
            board.beat(0, pulse(7, 3));
            board.beat(1, pulse(answered_1, 2));
            supervisor.tick(&board, at);
        }
        assert_eq!(supervisor.stuck, vec![0], "beating but not answering");
        // One answer delivered: no longer stalled.
        board.beat(0, pulse(8, 3));
        board.beat(1, pulse(answered_1 + 1, 2));
        supervisor.tick(&board, at + MIN_CHECK);
        assert!(supervisor.stuck.is_empty());
        // Owing nothing is never a stall, however long nothing is answered.
        for step in 2..40 {
            board.beat(0, pulse(8, 0));
            board.beat(1, pulse(answered_1 + 1, 0));
            supervisor.tick(&board, at + MIN_CHECK * step);
        }
        assert!(supervisor.stuck.is_empty());
    }
}
