//! The tenants the shards serve and the terms in force for them, as the control actor last
//! put them in force: what the admin API and the console show as running.

use tf_bundles::Bundle;
use tf_config::TenantConfig;

/// The tenants the shards serve and the terms in force for them.
#[derive(Clone, Debug, Default)]
pub struct Running {
    /// Tenants, with their caps (as started, then as each switch set them); a tenant a bundle
    /// dropped stays listed (its requests are refused by policy).
    pub tenants: Vec<TenantConfig>,
}

impl Running {
    /// Records what a switch to `bundle` put in force: the terms of every tenant it lists,
    /// added ones included (costs, charge policies and the contact are the bundle's own).
    pub fn take_terms(&mut self, bundle: &Bundle) {
        for terms in &bundle.content.tenants {
            match self.tenants.iter_mut().find(|t| t.id == terms.id) {
                Some(tenant) => *tenant = terms.clone(),
                None => self.tenants.push(terms.clone()),
            }
        }
    }
}
