//! The drift guard's judgements of candidate bundles, kept beside the decisions they judged so
//! that a bundle blocked on this appliance stays blocked across a restart until a promotion
//! overrides it. Each is the caller's JSON, one per bundle hash, the newest few only.

use rusqlite::params;

use crate::DecisionLog;

impl DecisionLog {
    /// Keeps `judgement` (JSON) as bundle `hash`'s, made at `at_us`, replacing an earlier one
    /// of the same bundle (never a later one: two stores may finish out of order), and forgets
    /// all but the newest `keep`.
    pub fn keep_judgement(
        &self,
        hash: &str,
        at_us: u64,
        judgement: &str,
        keep: usize,
    ) -> Result<(), crate::LogError> {
        self.connection()
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.storage())?;
        let kept = self
            .connection()
            .execute(
                "INSERT INTO drift_judgements (bundle_hash, judged_us, judgement) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (bundle_hash) DO UPDATE \
                 SET judged_us = excluded.judged_us, judgement = excluded.judgement \
                 WHERE excluded.judged_us >= drift_judgements.judged_us",
                params![hash, at_us as i64, judgement],
            )
            .and_then(|_| {
                self.connection().execute(
                    "DELETE FROM drift_judgements WHERE bundle_hash NOT IN \
                     (SELECT bundle_hash FROM drift_judgements \
                      ORDER BY judged_us DESC, bundle_hash LIMIT ?1)",
                    params![keep as i64],
                )
            });
        let end = if kept.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.connection().execute_batch(end);
        kept.and(ended).map(|_| ()).map_err(self.storage())
    }

    /// The newest `limit` judgements as (bundle hash, JSON), oldest first; none in a file only
    /// an appliance older than the table has written.
    pub fn judgements(&self, limit: usize) -> Result<Vec<(String, String)>, crate::LogError> {
        let has_table: bool = self
            .connection()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = 'drift_judgements')",
                [],
                |row| row.get(0),
            )
            .map_err(self.storage())?;
        if !has_table {
            return Ok(Vec::new());
        }
        let mut statement = self
            .connection()
            .prepare(
                "SELECT bundle_hash, judgement FROM \
                 (SELECT bundle_hash, judgement, judged_us FROM drift_judgements \
                  ORDER BY judged_us DESC, bundle_hash LIMIT ?1) \
                 ORDER BY judged_us, bundle_hash",
            )
            .map_err(self.storage())?;
        let rows = statement
            .query_map(params![limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(self.storage())?;
        rows.collect::<Result<_, _>>().map_err(self.storage())
    }
}

#[cfg(test)]
mod tests {
    use crate::DecisionLog;

    #[test]
    fn one_judgement_per_bundle_the_newest_kept_oldest_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = DecisionLog::open(&dir.path().join("decisions.sqlite")).expect("opens");
        log.keep_judgement("a", 1, r#"{"judgement":"block"}"#, 2)
            .expect("kept");
        log.keep_judgement("b", 2, r#"{"judgement":"pass"}"#, 2)
            .expect("kept");
        // Judged again: replaced, and now the newest.
        log.keep_judgement("a", 3, r#"{"judgement":"pass"}"#, 2)
            .expect("kept");
        assert_eq!(
            log.judgements(10).expect("read"),
            [
                ("b".to_owned(), r#"{"judgement":"pass"}"#.to_owned()),
                ("a".to_owned(), r#"{"judgement":"pass"}"#.to_owned()),
            ]
        );
        // A store that finishes after a later one's changes nothing.
        log.keep_judgement("a", 2, r#"{"judgement":"block"}"#, 2)
            .expect("kept");
        assert_eq!(
            log.judgements(10).expect("read")[1],
            ("a".to_owned(), r#"{"judgement":"pass"}"#.to_owned())
        );
        // A third bundle pushes the oldest out.
        log.keep_judgement("c", 4, "{}", 2).expect("kept");
        let hashes: Vec<String> = log
            .judgements(10)
            .expect("read")
            .into_iter()
            .map(|(hash, _)| hash)
            .collect();
        assert_eq!(hashes, ["a", "c"]);
        assert_eq!(log.judgements(1).expect("read").len(), 1);
    }

    #[test]
    fn a_file_written_before_the_table_has_no_judgements() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("decisions.sqlite");
        drop(DecisionLog::open(&path).expect("opens"));
        let older = rusqlite::Connection::open(&path).expect("opens");
        older
            .execute_batch("DROP TABLE drift_judgements")
            .expect("as an older appliance left it");
        drop(older);
        let log = DecisionLog::open_read(&path).expect("opens read-only");
        assert!(log.judgements(10).expect("read").is_empty());
    }
}
