//! Admission rules in Cedar: the appliance's schema, policies validated against it, and the
//! decision for one request.
//!
//! A request asks whether `principal` (the tenant the client certificate names) may `submit`
//! a statement to `resource` (the Groth16 verifying key, or the BLS scheme) for a purpose and a
//! dataset class. Cedar denies unless some `permit` matches and no `forbid` does.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, PolicySet, Request, RestrictedExpression,
    Schema, ValidationMode, Validator,
};
use tf_config::TenantConfig;
use tf_wire::DatasetClass;

use crate::content::RegistryKey;

/// The appliance's entities and actions, the schema every bundle's policies must validate
/// against.
pub const SCHEMA: &str = r#"namespace TrustFabric {
  // A partner, named by its client certificate.
  entity Tenant = { weight: Long };
  // A Groth16 verifying key; its id is the key id (64 hex digits). Keys from the bundle's
  // registry have a name; keys a partner registered itself have none.
  entity Key = { name?: String };
  // A signature scheme without registered keys: "bls".
  entity Scheme;

  // Submit a statement for verification. context.kind is bls-single, bls-aggregate,
  // bls-fast-aggregate, groth16-bn254 or groth16-bls12-381; context.class is P0, P1 or P2.
  action submit appliesTo {
    principal: [Tenant],
    resource: [Key, Scheme],
    context: { purpose: String, class: String, kind: String }
  };
}
"#;

/// The bundle's policies, compiled and validated, with the entities they decide over.
pub struct CompiledPolicies {
    policies: PolicySet,
    schema: Schema,
    entities: Entities,
    action: EntityUid,
    authorizer: Authorizer,
}

impl std::fmt::Debug for CompiledPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPolicies")
            .field("policies", &self.policies.policies().count())
            .finish_non_exhaustive()
    }
}

/// What a statement is, as policies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind<'a> {
    /// A BLS statement of this kind (`bls-single`, ...).
    Bls(&'a str),
    /// A Groth16 proof under the key with this id; `curve` is `bn254` or `bls12-381`.
    Groth16 {
        /// The key id, hex.
        key_id: &'a str,
        /// The key's curve.
        curve: &'a str,
    },
}

/// One request as admission sees it.
#[derive(Clone, Copy, Debug)]
pub struct Admission<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The purpose.
    pub purpose: &'a str,
    /// The dataset class.
    pub class: DatasetClass,
    /// What is to be verified.
    pub statement: StatementKind<'a>,
}

/// Cedar's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// The policies that decided (the `@id` annotation where there is one).
    pub policies: Vec<String>,
    /// Evaluation errors, which make the erring policy not apply.
    pub errors: Vec<String>,
}

impl CompiledPolicies {
    /// Parses and validates `text` (strict mode) against [`SCHEMA`], and builds the entities
    /// for the bundle's tenants and registry keys. Every error is returned.
    pub fn compile(
        text: &str,
        tenants: &[TenantConfig],
        keys: &[RegistryKey],
    ) -> Result<Self, Vec<String>> {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|e| vec![format!("the appliance's own schema: {e}")])?;
        let policies = PolicySet::from_str(text).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("does not parse: {e}"))
                .collect::<Vec<_>>()
        })?;
        let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        let errors: Vec<String> = validation
            .validation_errors()
            .map(|e| format!("does not validate against the appliance's schema: {e}"))
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut entities = Vec::new();
        for tenant in tenants {
            let attrs = HashMap::from([(
                "weight".to_owned(),
                RestrictedExpression::new_long(tenant.weight as i64),
            )]);
            entities.push(
                Entity::new(uid("Tenant", &tenant.id), attrs, HashSet::new())
                    .map_err(|e| vec![e.to_string()])?,
            );
        }
        for key in keys {
            let attrs = HashMap::from([(
                "name".to_owned(),
                RestrictedExpression::new_string(key.name.clone()),
            )]);
            entities.push(
                Entity::new(uid("Key", &key.key.id().to_string()), attrs, HashSet::new())
                    .map_err(|e| vec![e.to_string()])?,
            );
        }
        let entities = Entities::from_entities(entities, Some(&schema))
            .map_err(|e| vec![format!("building the entities: {e}")])?;
        Ok(CompiledPolicies {
            policies,
            schema,
            entities,
            action: uid("Action", "submit"),
            authorizer: Authorizer::new(),
        })
    }

    /// Decides one request.
    pub fn decide(&self, request: &Admission<'_>) -> Decision {
        let (resource, kind) = match request.statement {
            StatementKind::Bls(kind) => (uid("Scheme", "bls"), kind.to_owned()),
            StatementKind::Groth16 { key_id, curve } => {
                (uid("Key", key_id), format!("groth16-{curve}"))
            }
        };
        let context = Context::from_pairs([
            (
                "purpose".to_owned(),
                RestrictedExpression::new_string(request.purpose.to_owned()),
            ),
            (
                "class".to_owned(),
                RestrictedExpression::new_string(request.class.name().to_owned()),
            ),
            ("kind".to_owned(), RestrictedExpression::new_string(kind)),
        ]);
        let denied = |why: String| Decision {
            allowed: false,
            policies: Vec::new(),
            errors: vec![why],
        };
        let context = match context {
            Ok(context) => context,
            Err(e) => return denied(e.to_string()),
        };
        let cedar_request = match Request::new(
            uid("Tenant", request.tenant),
            self.action.clone(),
            resource,
            context,
            Some(&self.schema),
        ) {
            Ok(r) => r,
            Err(e) => return denied(e.to_string()),
        };
        let response =
            self.authorizer
                .is_authorized(&cedar_request, &self.policies, &self.entities);
        let diagnostics = response.diagnostics();
        let mut policies: Vec<String> = diagnostics
            .reason()
            .map(|id| {
                self.policies
                    .annotation(id, "id")
                    .map_or_else(|| id.to_string(), str::to_owned)
            })
            .collect();
        policies.sort();
        Decision {
            allowed: response.decision() == cedar_policy::Decision::Allow,
            policies,
            errors: diagnostics.errors().map(|e| e.to_string()).collect(),
        }
    }

    /// Each policy's text keyed by its `@id` (or Cedar's own id), in order.
    pub fn texts(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .policies
            .policies()
            .map(|p| {
                let id = p
                    .annotation("id")
                    .map_or_else(|| p.id().to_string(), str::to_owned);
                (id, p.to_string())
            })
            .collect();
        out.sort();
        out
    }
}

/// The tenants Cedar `text` names as entities (`TrustFabric::Tenant::"acme"`, in a scope or a
/// condition), sorted; an error when it does not parse.
pub fn tenants_named(text: &str) -> Result<std::collections::BTreeSet<String>, String> {
    let policies = PolicySet::from_str(text).map_err(|e| format!("does not parse: {e}"))?;
    Ok(policies
        .policies()
        .flat_map(|policy| policy.entity_literals())
        .filter(|uid| uid.type_name().to_string() == "TrustFabric::Tenant")
        .map(|uid| uid.id().unescaped().to_owned())
        .collect())
}

fn uid(kind: &str, id: &str) -> EntityUid {
    let escaped = id.replace('\\', "\\\\").replace('"', "\\\"");
    EntityUid::from_str(&format!("TrustFabric::{kind}::\"{escaped}\""))
        .expect("a namespaced type with a quoted, escaped id always parses")
}

#[cfg(test)]
mod tenants_named_tests {
    #[test]
    fn tenants_named_in_scopes_and_conditions_are_found_and_nothing_else() {
        let text = r#"
            permit (principal == TrustFabric::Tenant::"acme", action, resource);
            forbid (principal, action, resource)
            when { principal == TrustFabric::Tenant :: "globex" || context.purpose == "initech" };
        "#;
        let named = super::tenants_named(text).expect("parses");
        assert_eq!(named.into_iter().collect::<Vec<_>>(), ["acme", "globex"]);
        assert!(super::tenants_named("permit (").is_err());
    }
}
