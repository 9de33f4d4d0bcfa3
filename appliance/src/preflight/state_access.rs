//! The state directory's permissions: only the appliance's user may read its keys and ledger
//! or change anything in it. `serve` refuses otherwise (as `tf_state` does at open), so this
//! is a FAIL with the exact `chmod`/`chown` to run.

use super::checks::{Check, HostFacts, Status, check};

const NAME: &str = "state permissions";

/// The check's row.
pub fn state_access(facts: &HostFacts) -> Check {
    match &facts.state_exposures {
        Err(error) => check(
            NAME,
            Status::Warn,
            format!("cannot read the state directory's permissions: {error}"),
            "run preflight as the appliance's user (e.g. `sudo -u trust-fabric appliance \
             preflight`)",
        ),
        Ok(exposures) if exposures.is_empty() => check(
            NAME,
            Status::Pass,
            "only the appliance's user can read its keys and ledger or change the directory"
                .to_owned(),
            "",
        ),
        Ok(exposures) => {
            let found: Vec<String> = exposures.iter().map(ToString::to_string).collect();
            let mut fixes: Vec<String> = exposures.iter().map(|e| e.fix()).collect();
            fixes.dedup();
            check(NAME, Status::Fail, found.join("; "), &fixes.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    use tf_state::Exposure;

    use super::*;
    use crate::preflight::checks::StateDirFacts;

    fn facts(exposures: Result<Vec<Exposure>, String>) -> HostFacts {
        HostFacts {
            kernel_release: "6.1.0".into(),
            io_uring_disabled: None,
            seccomp_mode: None,
            io_uring_probe: Ok(()),
            memlock_limit: None,
            allowed_cpus: 2,
            udp_buffer_max: (None, None),
            clock_synchronized: None,
            uid: 999,
            state_dir: StateDirFacts::Missing {
                path: PathBuf::from("/s"),
                creatable: true,
                free_bytes: None,
            },
            state_exposures: exposures,
            listen_probe: Ok(()),
            admin_probe: None,
            cpu_features: Vec::new(),
        }
    }

    #[test]
    fn exposed_keys_fail_with_each_command_to_run() {
        let row = state_access(&facts(Ok(vec![])));
        assert_eq!(row.status, Status::Pass);
        let exposed = tf_state::exposures(Path::new("/nonexistent-state-dir"))
            .expect("a missing directory exposes nothing");
        assert!(exposed.is_empty());

        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("receipt.key");
        std::fs::write(&key, b"secret").expect("key");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let row = state_access(&facts(
            tf_state::exposures(dir.path()).map_err(|e| e.to_string()),
        ));
        assert_eq!(row.status, Status::Fail);
        assert!(row.detail.contains("mode 0644"), "{row:?}");
        assert_eq!(row.fix, format!("chmod 600 {}", key.display()));
    }
}
