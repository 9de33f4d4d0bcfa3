//! What verification found wrong: one value per problem, naming the file it is in.

use std::fmt;

/// Problems reported per file before the rest are only counted.
const PROBLEMS_PER_FILE: usize = 20;

/// One problem found in a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file, as a path inside the packet (`receipts/acme.jsonl.gz`).
    pub file: String,
    /// What is wrong with it.
    pub what: String,
}

impl Problem {
    /// A problem with `file`.
    pub fn new(file: impl Into<String>, what: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            what: what.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.what)
    }
}

impl std::error::Error for Problem {}

/// One file's problems, the first few kept: a file that is wrong throughout (another packet's,
/// or garbage) is a few lines and a count, not a line per receipt.
pub(crate) struct FileProblems {
    file: String,
    kept: Vec<String>,
    more: u64,
}

impl FileProblems {
    pub(crate) fn new(file: &str) -> Self {
        FileProblems {
            file: file.to_owned(),
            kept: Vec::new(),
            more: 0,
        }
    }

    pub(crate) fn push(&mut self, what: String) {
        if self.kept.len() < PROBLEMS_PER_FILE {
            self.kept.push(what);
        } else {
            self.more += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    pub(crate) fn report(self, problems: &mut Vec<Problem>) {
        let file = self.file;
        problems.extend(self.kept.into_iter().map(|what| Problem::new(&file, what)));
        if self.more > 0 {
            problems.push(Problem::new(
                &file,
                format!("and {} more problem(s)", self.more),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_prints_as_file_then_what() {
        let problem = Problem::new("log/checkpoint", "not signed by the log key");
        assert_eq!(
            problem.to_string(),
            "log/checkpoint: not signed by the log key"
        );
    }
}
