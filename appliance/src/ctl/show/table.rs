//! Aligned columns for terminal output: every column as wide as its widest cell, two spaces
//! between columns, numbers to the right, the last column never padded.

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table being filled.
pub(crate) struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub(crate) fn new(columns: &[(&'static str, Align)]) -> Self {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row: one cell per column.
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "one cell per column");
        self.rows.push(cells);
    }

    /// The header and every row, aligned.
    pub(crate) fn lines(&self) -> Vec<String> {
        let header: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        let all: Vec<&Vec<String>> = std::iter::once(&header).chain(&self.rows).collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                all.iter()
                    .map(|row| row.get(i).map_or(0, |cell| cell.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        all.iter()
            .map(|row| {
                let last = row.len().saturating_sub(1);
                let cells: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(i, cell)| {
                        let pad = widths[i].saturating_sub(cell.chars().count());
                        match (self.columns[i].1, i == last) {
                            (Align::Right, _) => format!("{}{cell}", " ".repeat(pad)),
                            (Align::Left, false) => format!("{cell}{}", " ".repeat(pad)),
                            (Align::Left, true) => cell.clone(),
                        }
                    })
                    .collect();
                cells.join("  ")
            })
            .collect()
    }
}

/// A count with thousands separated: `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The first 12 hex digits of a hash, enough to tell revisions apart on screen.
pub(crate) fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_numbers_go_right() {
        let mut table = Table::new(&[
            ("ID", Align::Right),
            ("URL", Align::Left),
            ("STATE", Align::Left),
        ]);
        table.row(vec![
            "7".into(),
            "https://a.example/hook".into(),
            "active".into(),
        ]);
        table.row(vec![
            "12".into(),
            "https://b.example".into(),
            "paused".into(),
        ]);
        assert_eq!(
            table.lines(),
            [
                "ID  URL                     STATE",
                " 7  https://a.example/hook  active",
                "12  https://b.example       paused",
            ]
        );
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
