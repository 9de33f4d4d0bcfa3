//! A pack's edits applied to the bundle in force: its files rewritten (tenants.toml,
//! budgets.toml, policies.cedar) and built into a what-if bundle, signed with a key made for
//! the purpose and never trusted anywhere. The bundle's own checks apply: an edit that makes an
//! invalid bundle is refused with the bundle's problems.

use tf_bundles::{
    AuthorKey, BUDGETS_FILE, BuildInfo, Bundle, BundleFiles, POLICIES_FILE, TENANTS_FILE,
};
use toml::{Table, Value};

use crate::pack::Change;

/// The what-if bundle: `active` with `change`'s edits, at the revision after it, made at
/// `created_unix_s`.
pub fn apply(active: &Bundle, change: &Change, created_unix_s: u64) -> Result<Bundle, String> {
    let mut files = active.files.clone();
    edit_tenants(&mut files, change)?;
    edit_caps(&mut files, change)?;
    if let Some(added) = &change.add_policies {
        let mut policies = text(&files, POLICIES_FILE)?;
        policies.push('\n');
        policies.push_str(added);
        files.insert(POLICIES_FILE, policies.into_bytes());
    }
    let info = BuildInfo {
        revision: active
            .revision()
            .saturating_add(1)
            .min(tf_bundles::MAX_REVISION),
        author: "scenario".into(),
        note: "what-if bundle of a scenario pack; never promoted".into(),
        tickets: Vec::new(),
        created_unix_s,
        republishes: None,
    };
    // A key of its own, whose secret is dropped with it: nothing can trust this bundle.
    let mut key = AuthorKey::generate(&mut rand_core::OsRng);
    tf_bundles::build(files, info, &mut key, &tf_engine::Limits::DEFAULT)
        .map_err(|refusal| format!("the edited bundle is not valid: {refusal}"))
}

fn text(files: &BundleFiles, name: &str) -> Result<String, String> {
    let bytes = files
        .get(name)
        .ok_or_else(|| format!("the bundle in force has no {name}"))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{name} is not UTF-8"))
}

fn table(files: &BundleFiles, name: &str) -> Result<Table, String> {
    text(files, name)?
        .parse::<Table>()
        .map_err(|e| format!("{name}: {e}"))
}

fn entries<'t>(table: &'t mut Table, key: &str) -> Vec<&'t mut Table> {
    match table.get_mut(key) {
        Some(Value::Array(items)) => items.iter_mut().filter_map(Value::as_table_mut).collect(),
        _ => Vec::new(),
    }
}

fn edit_tenants(files: &mut BundleFiles, change: &Change) -> Result<(), String> {
    if change.tenants.is_empty() {
        return Ok(());
    }
    let mut tenants = table(files, TENANTS_FILE)?;
    for edit in &change.tenants {
        let mut found = false;
        if edit.drop {
            if let Some(Value::Array(items)) = tenants.get_mut("tenants") {
                let before = items.len();
                items.retain(|item| item.get("id").and_then(Value::as_str) != Some(&edit.id));
                found = items.len() < before;
            }
        } else {
            for tenant in entries(&mut tenants, "tenants") {
                if tenant.get("id").and_then(Value::as_str) != Some(&edit.id) {
                    continue;
                }
                found = true;
                for (field, value) in [
                    ("weight", edit.weight),
                    ("rate_per_sec", edit.rate_per_sec),
                    ("burst", edit.burst),
                ] {
                    if let Some(value) = value {
                        let value =
                            i64::try_from(value).map_err(|_| format!("{field} too large"))?;
                        tenant.insert(field.into(), Value::Integer(value));
                    }
                }
            }
        }
        if !found {
            return Err(format!(
                "tenant {:?} is not in the bundle in force",
                edit.id
            ));
        }
    }
    files.insert(TENANTS_FILE, tenants.to_string().into_bytes());
    Ok(())
}

fn edit_caps(files: &mut BundleFiles, change: &Change) -> Result<(), String> {
    if change.caps.is_empty() {
        return Ok(());
    }
    let mut budgets = table(files, BUDGETS_FILE)?;
    for edit in &change.caps {
        let mut found = false;
        for cap in entries(&mut budgets, "caps") {
            let same = cap.get("tenant").and_then(Value::as_str) == Some(&edit.tenant)
                && cap.get("class").and_then(Value::as_str) == Some(&edit.class)
                && (edit.purpose.is_none()
                    || cap.get("purpose").and_then(Value::as_str) == edit.purpose.as_deref());
            if !same {
                continue;
            }
            found = true;
            let old = cap.get("limit").and_then(Value::as_integer).unwrap_or(0);
            let limit = match (edit.limit, edit.scale) {
                (Some(limit), _) => limit as f64,
                (None, Some(scale)) => (old as f64 * scale).round(),
                (None, None) => old as f64,
            };
            cap.insert("limit".into(), Value::Integer(limit.max(1.0) as i64));
        }
        if !found {
            let (Some(window), Some(limit)) = (&edit.window, edit.limit) else {
                return Err(format!(
                    "no {} cap of tenant {:?} to edit; to add one, give its limit and window",
                    edit.class, edit.tenant
                ));
            };
            let mut cap = Table::new();
            cap.insert("tenant".into(), Value::String(edit.tenant.clone()));
            if let Some(purpose) = &edit.purpose {
                cap.insert("purpose".into(), Value::String(purpose.clone()));
            }
            cap.insert("class".into(), Value::String(edit.class.clone()));
            cap.insert("limit".into(), Value::Integer(limit as i64));
            cap.insert("window".into(), Value::String(window.clone()));
            match budgets.get_mut("caps") {
                Some(Value::Array(items)) => items.push(Value::Table(cap)),
                _ => {
                    budgets.insert("caps".into(), Value::Array(vec![Value::Table(cap)]));
                }
            }
        }
    }
    files.insert(BUDGETS_FILE, budgets.to_string().into_bytes());
    Ok(())
}
