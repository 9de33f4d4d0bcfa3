//! Budget statements compared with what the receipts add up to, saying where they differ.

use tf_evidence::{BudgetLine, BudgetStatements};

/// How the budget statements differ from the receipts' sums, if they do.
pub(crate) fn statement_difference(
    file: &BudgetStatements,
    receipts: &BudgetStatements,
) -> Option<String> {
    if file.tenant != receipts.tenant
        || file.from_unix_us != receipts.from_unix_us
        || file.to_unix_us != receipts.to_unix_us
    {
        return Some("they are for another tenant or period".to_owned());
    }
    let describe = |line: Option<&BudgetLine>| match line {
        Some(l) => format!(
            "{} request(s), {} valid, {} invalid, {} rejected, {} charged",
            l.requests, l.valid, l.invalid, l.rejected, l.charged
        ),
        None => "no line".to_owned(),
    };
    let keys = file
        .lines
        .iter()
        .chain(&receipts.lines)
        .map(|l| (&l.purpose, &l.dataset_class));
    for (purpose, class) in keys {
        let find = |statements: &'_ BudgetStatements| {
            statements
                .lines
                .iter()
                .find(|l| &l.purpose == purpose && &l.dataset_class == class)
                .cloned()
        };
        let (stated, summed) = (find(file), find(receipts));
        if stated != summed {
            return Some(format!(
                "purpose {purpose:?} class {class}: the file states {}, the receipts add up to {}",
                describe(stated.as_ref()),
                describe(summed.as_ref())
            ));
        }
    }
    (file != receipts).then(|| "a purpose and class is stated twice".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(charged: u64) -> BudgetStatements {
        let mut statements = BudgetStatements {
            tenant: "acme".into(),
            from_unix_us: 0,
            to_unix_us: 10,
            lines: Vec::new(),
        };
        statements.add("kyc", "P1", "valid", charged);
        statements.add("aml", "P0", "rejected", 0);
        statements.sort();
        statements
    }

    #[test]
    fn the_first_line_that_differs_is_named_and_equal_statements_pass() {
        assert_eq!(statement_difference(&statements(1), &statements(1)), None);
        assert_eq!(
            statement_difference(&statements(2), &statements(1)).as_deref(),
            Some(
                "purpose \"kyc\" class P1: the file states 1 request(s), 1 valid, 0 invalid, 0 \
                 rejected, 2 charged, the receipts add up to 1 request(s), 1 valid, 0 invalid, 0 \
                 rejected, 1 charged"
            )
        );
        let mut other = statements(1);
        other.tenant = "beta".into();
        assert!(statement_difference(&other, &statements(1)).is_some());
        let mut missing = statements(1);
        missing.lines.pop();
        assert!(
            statement_difference(&missing, &statements(1))
                .is_some_and(|what| what.contains("the file states no line"))
        );
    }
}
