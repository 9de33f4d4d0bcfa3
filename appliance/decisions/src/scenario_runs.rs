//! The scenario scheduler's runs, in the decision log's file: one row per pack and run, kept
//! 90 days, and the last schedule slot acted on (so a restart neither repeats nor loses one;
//! a night cut short is finished from the packs with a row for its slot).

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params};

use crate::store::{DecisionLog, LogError};

/// One pack's run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RunRow {
    /// The pack.
    pub pack: String,
    /// The slot it ran for (0: run by hand).
    pub slot_us: u64,
    /// When it started, Unix microseconds.
    pub started_us: u64,
    /// When it finished.
    pub finished_us: u64,
    /// Whether every expectation held (false when the pack did not run or did not apply).
    pub passed: bool,
    /// Decisions judged.
    pub decisions: u64,
    /// Flips.
    pub flips: u64,
    /// The drift's upper bound, a fraction.
    pub upper_bound: f64,
    /// The whole result (JSON), or why the pack did not run (`error`), or the tenants it
    /// names that the bundle in force lacks (`missing_tenants`).
    pub result: String,
    /// Whether the pack ran (read back: false when its result is why it did not, or names
    /// missing tenants).
    pub ran: bool,
    /// Whether the pack applied to the bundle in force (read back: false when its result
    /// names missing tenants). Such a run is neither passed nor failing.
    pub applicable: bool,
}

impl RunRow {
    /// Whether the run counts as failing (the alert, the `scenario.failed` webhook): its
    /// expectations did not hold, or it did not run. A pack that did not apply is not.
    pub fn failing(&self) -> bool {
        !self.passed && self.applicable
    }
}

impl DecisionLog {
    /// Stores a run.
    pub fn record_run(&self, run: &RunRow) -> Result<(), LogError> {
        self.connection()
            .execute(
                "INSERT INTO scenario_runs (pack, slot_us, started_us, finished_us, passed, \
                 decisions, flips, upper_bound, result) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    run.pack,
                    run.slot_us as i64,
                    run.started_us as i64,
                    run.finished_us as i64,
                    run.passed,
                    run.decisions as i64,
                    run.flips as i64,
                    run.upper_bound,
                    run.result,
                ],
            )
            .map_err(self.storage())?;
        Ok(())
    }

    /// Every run since `from_us`, oldest first (the result's JSON left out: `with_result`).
    pub fn runs_since(&self, from_us: u64, with_result: bool) -> Result<Vec<RunRow>, LogError> {
        let mut select = self
            .connection()
            .prepare(
                "SELECT pack, slot_us, started_us, finished_us, passed, decisions, flips, \
                 upper_bound, CASE WHEN ?2 THEN result ELSE '' END, \
                 json_extract(result, '$.error') IS NULL \
                 AND json_extract(result, '$.missing_tenants') IS NULL, \
                 json_extract(result, '$.missing_tenants') IS NULL FROM scenario_runs \
                 WHERE started_us >= ?1 ORDER BY started_us, id",
            )
            .map_err(self.storage())?;
        let rows = select
            .query_map(
                params![from_us.min(i64::MAX as u64) as i64, with_result],
                run_row,
            )
            .map_err(self.storage())?;
        rows.collect::<Result<_, _>>().map_err(self.storage())
    }

    /// Each pack's latest run, with its result, by pack name.
    pub fn latest_runs(&self) -> Result<Vec<RunRow>, LogError> {
        let mut select = self
            .connection()
            .prepare(
                "SELECT pack, slot_us, started_us, finished_us, passed, decisions, flips, \
                 upper_bound, result, json_extract(result, '$.error') IS NULL \
                 AND json_extract(result, '$.missing_tenants') IS NULL, \
                 json_extract(result, '$.missing_tenants') IS NULL \
                 FROM scenario_runs WHERE id IN (SELECT max(id) FROM scenario_runs GROUP BY pack) ORDER BY pack",
            )
            .map_err(self.storage())?;
        let rows = select.query_map([], run_row).map_err(self.storage())?;
        rows.collect::<Result<_, _>>().map_err(self.storage())
    }

    /// Every run since `from_us` (results left out) and each pack's latest run (with its
    /// result), read in one transaction so that both see the same runs.
    pub fn kept_and_latest(&self, from_us: u64) -> Result<(Vec<RunRow>, Vec<RunRow>), LogError> {
        let read = self
            .connection()
            .unchecked_transaction()
            .map_err(self.storage())?;
        let kept = self.runs_since(from_us, false)?;
        let latest = self.latest_runs()?;
        read.finish().map_err(self.storage())?;
        Ok((kept, latest))
    }

    /// The packs with a run recorded for slot `slot_us`: after a restart in the middle of
    /// that slot's night, the ones not to run again.
    pub fn packs_run_for(&self, slot_us: u64) -> Result<BTreeSet<String>, LogError> {
        let mut select = self
            .connection()
            .prepare("SELECT DISTINCT pack FROM scenario_runs WHERE slot_us = ?1")
            .map_err(self.storage())?;
        let packs = select
            .query_map([slot_us.min(i64::MAX as u64) as i64], |row| {
                row.get::<_, String>(0)
            })
            .map_err(self.storage())?;
        packs.collect::<Result<_, _>>().map_err(self.storage())
    }

    /// Deletes runs started before `before_us`; returns how many.
    pub fn prune_runs(&self, before_us: u64) -> Result<u64, LogError> {
        self.connection()
            .execute(
                "DELETE FROM scenario_runs WHERE started_us < ?1",
                params![before_us.min(i64::MAX as u64) as i64],
            )
            .map(|n| n as u64)
            .map_err(self.storage())
    }

    /// The last slot the schedule `schedule` acted on.
    pub fn last_slot(&self, schedule: &str) -> Result<Option<u64>, LogError> {
        self.connection()
            .query_row(
                "SELECT slot_us FROM scenario_slots WHERE schedule = ?1",
                [schedule],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map(|slot| slot.map(|s| s as u64))
            .map_err(self.storage())
    }

    /// Stores the last slot the schedule `schedule` acted on.
    pub fn set_last_slot(&self, schedule: &str, slot_us: u64) -> Result<(), LogError> {
        self.connection()
            .execute(
                "INSERT INTO scenario_slots (schedule, slot_us) VALUES (?1, ?2) \
                 ON CONFLICT (schedule) DO UPDATE SET slot_us = excluded.slot_us",
                params![schedule, slot_us as i64],
            )
            .map_err(self.storage())?;
        Ok(())
    }
}

fn run_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        pack: row.get(0)?,
        slot_us: row.get::<_, i64>(1)? as u64,
        started_us: row.get::<_, i64>(2)? as u64,
        finished_us: row.get::<_, i64>(3)? as u64,
        passed: row.get(4)?,
        decisions: row.get::<_, i64>(5)? as u64,
        flips: row.get::<_, i64>(6)? as u64,
        upper_bound: row.get(7)?,
        result: row.get(8)?,
        ran: row.get(9)?,
        applicable: row.get(10)?,
    })
}
