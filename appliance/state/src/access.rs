//! Who may read and change the state directory: its owner alone. The receipt key, the CA and
//! server keys, tokens and the ledger are refused, not used, when another user owns them or
//! when group or others could read them (or change anything in the directory), the way sshd
//! refuses a private key others can read and PostgreSQL a data directory others can open.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::StateError;

/// How deep the check looks: `tenants/<id>/client.key` is three levels down.
const MAX_DEPTH: usize = 3;
/// Group and others may neither read nor write these (nor the directory itself).
const GROUP_OTHER_RW: u32 = 0o066;
/// Group and others may not write anything.
const GROUP_OTHER_W: u32 = 0o022;

/// Something in the state directory others could read or change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exposure {
    /// Owned by a user other than the one running the appliance.
    ForeignOwner {
        /// The file or directory.
        path: PathBuf,
        /// Its owner's uid.
        owner: u32,
        /// The uid running the appliance.
        uid: u32,
        /// Whether it is a directory (its contents are then not listed one by one).
        directory: bool,
    },
    /// Group or others may write it.
    Writable {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Group or others may read (or also write) a private file, or list the state directory.
    Readable {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Whether it is a directory (the fix differs).
        directory: bool,
    },
}

impl Exposure {
    /// The command that fixes it.
    pub fn fix(&self) -> String {
        match self {
            Exposure::ForeignOwner {
                path,
                owner,
                uid,
                directory,
            } => {
                let recursive = if *directory { "-R " } else { "" };
                format!(
                    "run the appliance as uid {owner} (the user it is installed for), or give \
                     the files to uid {uid}: chown {recursive}{uid} {}",
                    path.display()
                )
            }
            Exposure::Writable { path, .. } => format!("chmod go-w {}", path.display()),
            Exposure::Readable {
                path,
                directory: true,
                ..
            } => format!("chmod 700 {}", path.display()),
            Exposure::Readable { path, .. } => format!("chmod 600 {}", path.display()),
        }
    }
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exposure::ForeignOwner {
                path, owner, uid, ..
            } => write!(
                f,
                "{} is owned by uid {owner}, the appliance runs as uid {uid}",
                path.display()
            ),
            Exposure::Writable { path, mode } => write!(
                f,
                "{} has mode {mode:04o}: group or others can change it",
                path.display()
            ),
            Exposure::Readable { path, mode, .. } => {
                let what = if mode & GROUP_OTHER_W != 0 {
                    "read and change"
                } else {
                    "read"
                };
                write!(
                    f,
                    "{} has mode {mode:04o}: group or others can {what} it",
                    path.display()
                )
            }
        }
    }
}

/// Whether a file in the state directory holds a secret or the ledger (by name: keys end in
/// `.key`, tokens in `.token`; the ledger is `ledger.sqlite` with its `-wal`, `-shm` and
/// `-journal`). Certificates and registered verifying keys are public.
pub fn is_private(name: &str) -> bool {
    name.ends_with(".key") || name.ends_with(".token") || name.starts_with(super::layout::LEDGER)
}

/// Everything in the state directory at `root` that others could read or change; empty when
/// only its owner can (or when it does not exist yet). Symbolic links inside it are not
/// followed. Ownership is not checked for root, which may operate on the service user's
/// directory (backups, evidence export); the preflight refuses to `serve` as anyone but its
/// owner.
pub fn exposures(root: &Path) -> Result<Vec<Exposure>, StateError> {
    exposures_for(root, effective_uid().filter(|uid| *uid != 0))
}

/// [`exposures`] as seen by `uid` (`None`: ownership not checked).
fn exposures_for(root: &Path, uid: Option<u32>) -> Result<Vec<Exposure>, StateError> {
    let mut found = Vec::new();
    // The directory itself may be a link the operator chose (its target is checked).
    let meta = match std::fs::metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(source) => return Err(io(root, source)),
    };
    let foreign = inspect(root, &meta, true, uid, &mut found);
    if meta.is_dir() {
        walk(root, 1, uid.filter(|_| !foreign), &mut found)?;
    }
    Ok(found)
}

/// Refuses a state directory others could read or change, naming each path and its fix.
pub fn check_private(root: &Path) -> Result<(), StateError> {
    let exposures = exposures(root)?;
    if exposures.is_empty() {
        Ok(())
    } else {
        Err(StateError::Exposed {
            root: root.display().to_string(),
            exposures: Exposures(exposures),
        })
    }
}

/// The exposures of a refused state directory, printed one a line with the commands to run.
#[derive(Debug)]
pub struct Exposures(pub Vec<Exposure>);

impl fmt::Display for Exposures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for exposure in &self.0 {
            write!(f, "\n  - {exposure}")?;
        }
        f.write_str("\nto fix:")?;
        for exposure in &self.0 {
            write!(f, "\n  {}", exposure.fix())?;
        }
        Ok(())
    }
}

fn walk(
    dir: &Path,
    depth: usize,
    uid: Option<u32>,
    found: &mut Vec<Exposure>,
) -> Result<(), StateError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let path = entry.path();
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Gone since the listing (a temporary file renamed into place).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(io(&path, source)),
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        let private = entry.file_name().to_str().is_some_and(is_private);
        let foreign = inspect(&path, &meta, private, uid, found);
        if meta.is_dir() && depth < MAX_DEPTH {
            // Under a directory owned by someone else, its `chown -R` covers the contents.
            walk(&path, depth + 1, uid.filter(|_| !foreign), found)?;
        }
    }
    Ok(())
}

/// Notes what is wrong with one file or directory; returns whether another user owns it.
fn inspect(
    path: &Path,
    meta: &std::fs::Metadata,
    private: bool,
    uid: Option<u32>,
    found: &mut Vec<Exposure>,
) -> bool {
    let mode = meta.mode() & 0o7777;
    let foreign = uid.is_some_and(|uid| meta.uid() != uid);
    if let Some(uid) = uid.filter(|_| foreign) {
        found.push(Exposure::ForeignOwner {
            path: path.to_owned(),
            owner: meta.uid(),
            uid,
            directory: meta.is_dir(),
        });
    }
    if private && mode & GROUP_OTHER_RW != 0 {
        // `chmod 600` (or 700) also takes away writing.
        found.push(Exposure::Readable {
            path: path.to_owned(),
            mode,
            directory: meta.is_dir(),
        });
    } else if mode & GROUP_OTHER_W != 0 {
        found.push(Exposure::Writable {
            path: path.to_owned(),
            mode,
        });
    }
    foreign
}

/// The uid this process runs as: `/proc/self` belongs to it. `None` without procfs, and then
/// ownership is not checked (permissions still are).
fn effective_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn io(path: &Path, source: std::io::Error) -> StateError {
    StateError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::{State, layout};

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn fresh() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("state");
        State::open_or_init(&root, &["localhost".into()]).expect("created");
        (dir, root)
    }

    #[test]
    fn a_directory_the_appliance_made_is_private_and_public_files_may_be_read() {
        let (_dir, root) = fresh();
        // A ledger made owner-only, as the ledger makes it.
        std::fs::write(root.join(layout::LEDGER), b"").expect("ledger");
        chmod(&root.join(layout::LEDGER), 0o600);
        assert_eq!(exposures(&root).expect("read"), []);
        assert_eq!(
            mode_of(&root.join(layout::CA_CERT)) & 0o044,
            0o044,
            "certificates are public"
        );
        assert!(State::open_existing(&root).is_ok());
    }

    #[test]
    fn a_readable_key_or_ledger_or_directory_is_refused_with_the_chmod_to_run() {
        for (file, mode, fix) in [
            (layout::RECEIPT_KEY, 0o640, "chmod 600"),
            (layout::CA_KEY, 0o604, "chmod 600"),
            (layout::DEMO_CLIENT_KEY, 0o644, "chmod 600"),
            (layout::LEDGER, 0o644, "chmod 600"),
            ("ledger.sqlite-wal", 0o644, "chmod 600"),
            ("admin.token", 0o660, "chmod 600"),
            ("", 0o755, "chmod 700"),
            (layout::CA_CERT, 0o664, "chmod go-w"),
            ("tenants", 0o777, "chmod go-w"),
        ] {
            let (_dir, root) = fresh();
            let path = if file.is_empty() {
                root.clone()
            } else {
                root.join(file)
            };
            if !path.exists() {
                std::fs::write(&path, b"").expect("file");
            }
            chmod(&path, mode);
            let err = State::open_existing(&root).expect_err(file);
            let message = err.to_string();
            let command = format!("{fix} {}", path.display());
            assert!(message.contains(&command), "{file}: {message}");
            assert!(message.contains(&format!("mode {mode:04o}")), "{message}");
            let err = State::open_or_init(&root, &["localhost".into()]).expect_err(file);
            assert!(matches!(err, StateError::Exposed { .. }), "{err}");
            chmod(&path, if fix == "chmod 700" { 0o700 } else { 0o600 });
            assert!(State::open_existing(&root).is_ok(), "{file} fixed");
        }
    }

    #[test]
    fn another_owner_is_named_once_for_the_directory_with_the_chown_to_run() {
        let (_dir, root) = fresh();
        assert_eq!(
            exposures(&root).expect("read"),
            [],
            "the creator owns it all"
        );
        // As seen by another uid, everything is foreign: the directory's `chown -R` covers it.
        let seen = exposures_for(&root, Some(4242)).expect("read");
        assert_eq!(seen.len(), 1, "{seen:?}");
        let fix = seen[0].fix();
        assert!(
            fix.ends_with(&format!("chown -R 4242 {}", root.display())),
            "{fix}"
        );
        assert!(
            seen[0]
                .to_string()
                .contains("the appliance runs as uid 4242"),
            "{}",
            seen[0]
        );
        // A file given away inside one's own directory is named with its own chown.
        let owner = effective_uid().expect("procfs");
        let foreign_key = Exposure::ForeignOwner {
            path: root.join(layout::RECEIPT_KEY),
            owner: 4242,
            uid: owner,
            directory: false,
        };
        assert!(foreign_key.fix().ends_with(&format!(
            "chown {owner} {}",
            root.join(layout::RECEIPT_KEY).display()
        )));
    }

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
    }
}
