//! The OpenAPI document of the admin API, built from [`ROUTES`](crate::ROUTES) and the body
//! types' schemas: the server only serves it (`GET /api/v1/openapi.json`).
//!
//! Every route's reply, request body, parameters and error answers come from the types of this
//! crate, so the description cannot drift from what the server answers.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Operation as PathOperation, OperationBuilder, Parameter, ParameterIn};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, Header, HttpMethod, Info, InfoBuilder, KnownFormat, OpenApi, OpenApiBuilder,
    Paths, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{IntoParams, ToSchema};

use crate::FleetReply;
use crate::error::{ErrorBody, ErrorCode};
use crate::routes::{Method, Operation, ROUTES, Route};
use crate::{
    AddWebhook, ChangeWebhook, DeliveriesQuery, DeliveriesReply, ReplayWebhook, WebhookAdded,
    WebhookChanged, WebhookPath, WebhookReplayed, WebhooksReply,
};
use crate::{
    BudgetsReply, CanaryEvent, CanaryReply, CanarySilence, DiffPath, DiffQuery, DiffReply,
    DriftQuery, DriftReply, HistoryReply, NewSilence, OverviewReply, PromoteQuery, ReceiptPath,
    ReceiptReply, ReceiptsQuery, ReceiptsReply, ResetBaseline, RollbackRequest, ScenariosReply,
    SilencePath, SnapshotAsked, SnapshotPath, SnapshotsReply, StatusReply, Switched, TenantsReply,
    TimelineReply, ValidateQuery, ValidateReply,
};
use crate::{CreateInvite, InviteCreated, InviteEntry, InvitePath, InvitesReply, RevokeInvite};
use crate::{TermsDecision, TermsRequestEntry, TermsRequestPath, TermsRequestsReply};

/// The document's title.
pub const TITLE: &str = "Trust Fabric appliance admin API";
/// The API's version: the `v1` of `/api/v1`.
pub const VERSION: &str = "1";
/// The name of the bearer token security scheme every operation requires.
pub const BEARER: &str = "bearer";

const JSON: &str = "application/json";
const GZIP: &str = "application/gzip";

/// The document's info: title, version and how callers authenticate.
pub fn info() -> Info {
    InfoBuilder::new()
        .title(TITLE)
        .version(VERSION)
        .description(Some(
            "Every route needs `Authorization: Bearer <token>` (or a console session cookie; \
             a change made with a session also needs the session's `X-CSRF-Token`), and a \
             token whose roles allow the route. Every error is answered with an `ErrorBody`.",
        ))
        .build()
}

/// The whole document: every route of [`ROUTES`], and in its components every schema they
/// reference and the bearer security scheme.
pub fn document() -> OpenApi {
    let mut schemas = Vec::new();
    let mut paths = Paths::new();
    for route in &ROUTES {
        paths.add_path_operation(
            route.path,
            vec![http_method(route.method)],
            operation(route, &mut schemas),
        );
    }
    let components = ComponentsBuilder::new()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .schemas_from_iter(schemas)
        .build();
    OpenApiBuilder::new()
        .info(info())
        .paths(paths)
        .components(Some(components))
        .build()
}

/// Schemas gathered for the components, by name.
type Schemas = Vec<(String, RefOr<Schema>)>;

fn operation(route: &Route, schemas: &mut Schemas) -> PathOperation {
    let mut builder = OperationBuilder::new()
        .operation_id(Some(route.operation_id()))
        .summary(Some(route.summary))
        .description(Some(format!("Roles: {}.", route.roles())))
        .security(SecurityRequirement::new(BEARER, Vec::<String>::new()))
        .response(
            route.operation.success_status().to_string(),
            success(route.operation, schemas),
        );
    for parameter in parameters(route.operation, schemas) {
        builder = builder.parameter(parameter);
    }
    if let Some(body) = request_body(route.operation, schemas) {
        builder = builder.request_body(Some(body));
    }
    let error = reference::<ErrorBody>(schemas);
    let errors: Vec<ErrorCode> = route.errors().collect();
    for (status, response) in error_responses(&errors, error) {
        builder = builder.response(status.to_string(), response);
    }
    builder.build()
}

/// An operation's successful answer: its reply as JSON, or for an archive the gzipped tar
/// itself.
fn success(operation: Operation, schemas: &mut Schemas) -> Response {
    match operation {
        Operation::SnapshotArchive => {
            let archive = ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
            let mut disposition = Header::new(ObjectBuilder::new().schema_type(Type::String));
            disposition.description = Some("`attachment; filename=\"<name>.tar.gz\"`".to_owned());
            ResponseBuilder::new()
                .description(
                    "The packet as a gzipped tar, streamed: its folder as `<name>/...` and, once \
                     anchored, its anchor record as `<name>.anchor.json`",
                )
                .content(GZIP, ContentBuilder::new().schema(Some(archive)).build())
                .header("Content-Disposition", disposition)
                .build()
        }
        _ => ResponseBuilder::new()
            .description(match operation {
                Operation::AskSnapshot => {
                    "Accepted: the packet is made once the period has settled, then listed"
                }
                _ => "OK",
            })
            .content(
                JSON,
                ContentBuilder::new()
                    .schema(Some(reply(operation, schemas)))
                    .build(),
            )
            .build(),
    }
}

/// The schema of an operation's successful JSON reply.
fn reply(operation: Operation, schemas: &mut Schemas) -> RefOr<Schema> {
    match operation {
        Operation::Status => reference::<StatusReply>(schemas),
        Operation::Overview => reference::<OverviewReply>(schemas),
        Operation::Tenants => reference::<TenantsReply>(schemas),
        Operation::Budgets => reference::<BudgetsReply>(schemas),
        Operation::Timeline => reference::<TimelineReply>(schemas),
        Operation::Diff => reference::<DiffReply>(schemas),
        Operation::Validate => reference::<ValidateReply>(schemas),
        Operation::Promote | Operation::Rollback | Operation::GrantTerms => {
            reference::<Switched>(schemas)
        }
        Operation::Receipt => reference::<ReceiptReply>(schemas),
        Operation::Snapshots => reference::<SnapshotsReply>(schemas),
        Operation::AskSnapshot => reference::<SnapshotAsked>(schemas),
        Operation::Webhooks => reference::<WebhooksReply>(schemas),
        Operation::AddWebhook => reference::<WebhookAdded>(schemas),
        Operation::ChangeWebhook => reference::<WebhookChanged>(schemas),
        Operation::Deliveries => reference::<DeliveriesReply>(schemas),
        Operation::ReplayWebhook => reference::<WebhookReplayed>(schemas),
        Operation::OverviewHistory => reference::<HistoryReply>(schemas),
        Operation::SearchReceipts => reference::<ReceiptsReply>(schemas),
        Operation::Scenarios => reference::<ScenariosReply>(schemas),
        Operation::Drift => reference::<DriftReply>(schemas),
        Operation::Canary | Operation::RunCanary => reference::<CanaryReply>(schemas),
        Operation::SilenceCanary | Operation::LiftSilence => reference::<CanarySilence>(schemas),
        Operation::ResetCanaryBaseline => reference::<CanaryEvent>(schemas),
        Operation::Invites => reference::<InvitesReply>(schemas),
        Operation::CreateInvite => reference::<InviteCreated>(schemas),
        Operation::RevokeInvite => reference::<InviteEntry>(schemas),
        Operation::TermsRequests => reference::<TermsRequestsReply>(schemas),
        Operation::DeclineTerms => reference::<TermsRequestEntry>(schemas),
        Operation::Fleet => reference::<FleetReply>(schemas),
        Operation::OpenApi => ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("This document (OpenAPI 3.1)"))
            .into(),
        // Not JSON: described by `success`.
        Operation::SnapshotArchive => ObjectBuilder::new().into(),
    }
}

/// An operation's path and query parameters.
fn parameters(operation: Operation, schemas: &mut Schemas) -> Vec<Parameter> {
    let path = || Some(ParameterIn::Path);
    let query = || Some(ParameterIn::Query);
    match operation {
        Operation::Diff => {
            // The parameters refer to the types' fields' schemas (`Revision`).
            DiffPath::schemas(schemas);
            DiffQuery::schemas(schemas);
            let mut parameters = DiffPath::into_params(path);
            parameters.extend(DiffQuery::into_params(query));
            parameters
        }
        Operation::Validate => {
            ValidateQuery::schemas(schemas);
            ValidateQuery::into_params(query)
        }
        Operation::Promote => {
            PromoteQuery::schemas(schemas);
            PromoteQuery::into_params(query)
        }
        Operation::Receipt => {
            ReceiptPath::schemas(schemas);
            ReceiptPath::into_params(path)
        }
        Operation::SnapshotArchive => {
            SnapshotPath::schemas(schemas);
            SnapshotPath::into_params(path)
        }
        Operation::ChangeWebhook | Operation::ReplayWebhook => {
            WebhookPath::schemas(schemas);
            WebhookPath::into_params(path)
        }
        Operation::Deliveries => {
            WebhookPath::schemas(schemas);
            DeliveriesQuery::schemas(schemas);
            let mut parameters = WebhookPath::into_params(path);
            parameters.extend(DeliveriesQuery::into_params(query));
            parameters
        }
        Operation::SearchReceipts => {
            ReceiptsQuery::schemas(schemas);
            ReceiptsQuery::into_params(query)
        }
        Operation::Drift => {
            DriftQuery::schemas(schemas);
            DriftQuery::into_params(query)
        }
        Operation::LiftSilence => {
            SilencePath::schemas(schemas);
            SilencePath::into_params(path)
        }
        Operation::RevokeInvite => {
            InvitePath::schemas(schemas);
            InvitePath::into_params(path)
        }
        Operation::GrantTerms | Operation::DeclineTerms => {
            TermsRequestPath::schemas(schemas);
            TermsRequestPath::into_params(path)
        }
        Operation::Status
        | Operation::Overview
        | Operation::Tenants
        | Operation::Budgets
        | Operation::Timeline
        | Operation::Rollback
        | Operation::OpenApi
        | Operation::Snapshots
        | Operation::AskSnapshot
        | Operation::Webhooks
        | Operation::AddWebhook
        | Operation::OverviewHistory
        | Operation::Scenarios
        | Operation::Canary
        | Operation::RunCanary
        | Operation::SilenceCanary
        | Operation::ResetCanaryBaseline
        | Operation::Invites
        | Operation::CreateInvite
        | Operation::TermsRequests
        | Operation::Fleet => Vec::new(),
    }
}

/// An operation's request body, if it takes one.
fn request_body(operation: Operation, schemas: &mut Schemas) -> Option<RequestBody> {
    match operation {
        Operation::Validate | Operation::Promote | Operation::Drift => {
            let archive = ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
            Some(
                RequestBodyBuilder::new()
                    .description(Some(
                        "The bundle: a gzipped tar from `appliance bundle build`, at most 8 MiB.",
                    ))
                    .required(Some(Required::True))
                    .content(GZIP, ContentBuilder::new().schema(Some(archive)).build())
                    .build(),
            )
        }
        Operation::Rollback => Some(json_body(reference::<RollbackRequest>(schemas))),
        Operation::AddWebhook => Some(json_body(reference::<AddWebhook>(schemas))),
        Operation::ChangeWebhook => Some(json_body(reference::<ChangeWebhook>(schemas))),
        Operation::ReplayWebhook => Some(json_body(reference::<ReplayWebhook>(schemas))),
        Operation::SilenceCanary => Some(json_body(reference::<NewSilence>(schemas))),
        Operation::ResetCanaryBaseline => Some(json_body(reference::<ResetBaseline>(schemas))),
        Operation::CreateInvite => Some(json_body(reference::<CreateInvite>(schemas))),
        Operation::RevokeInvite => Some(json_body(reference::<RevokeInvite>(schemas))),
        Operation::GrantTerms | Operation::DeclineTerms => {
            Some(json_body(reference::<TermsDecision>(schemas)))
        }
        Operation::Status
        | Operation::Overview
        | Operation::Tenants
        | Operation::Budgets
        | Operation::Timeline
        | Operation::Diff
        | Operation::Receipt
        | Operation::OpenApi
        | Operation::Snapshots
        | Operation::AskSnapshot
        | Operation::SnapshotArchive
        | Operation::Webhooks
        | Operation::Deliveries
        | Operation::OverviewHistory
        | Operation::SearchReceipts
        | Operation::Scenarios
        | Operation::Canary
        | Operation::RunCanary
        | Operation::LiftSilence
        | Operation::Invites
        | Operation::TermsRequests
        | Operation::Fleet => None,
    }
}

/// A required JSON request body of `schema`.
fn json_body(schema: RefOr<Schema>) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(JSON, ContentBuilder::new().schema(Some(schema)).build())
        .build()
}

/// One response per status among `errors`, each describing the codes answered with it.
fn error_responses(errors: &[ErrorCode], body: RefOr<Schema>) -> BTreeMap<u16, Response> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in errors {
        by_status.entry(code.status()).or_default().push(*code);
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let description = codes
                .iter()
                .map(|c| format!("`{}`: {}", c.name(), c.meaning()))
                .collect::<Vec<_>>()
                .join("; ");
            let mut response = ResponseBuilder::new().description(description).content(
                JSON,
                ContentBuilder::new().schema(Some(body.clone())).build(),
            );
            if codes.contains(&ErrorCode::Unauthenticated) {
                response = response.header(
                    "WWW-Authenticate",
                    Header::new(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["Bearer"])),
                    ),
                );
            }
            if codes.contains(&ErrorCode::Busy) {
                let mut retry_after = Header::new(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .enum_values(Some([ErrorCode::BUSY_RETRY_AFTER_SECONDS])),
                );
                retry_after.description =
                    Some("With `busy`: seconds to wait before retrying".into());
                response = response.header("Retry-After", retry_after);
            }
            if codes.contains(&ErrorCode::TooManyAttempts) {
                let mut retry_after = Header::new(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                );
                retry_after.description = Some(
                    "With `too-many-attempts`: seconds until another attempt is let through".into(),
                );
                response = response.header("Retry-After", retry_after);
            }
            (status, response.build())
        })
        .collect()
}

/// A reference to `T`'s schema, after adding it (and every schema it refers to) to `schemas`.
fn reference<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    let name = T::name().into_owned();
    if !schemas.iter().any(|(known, _)| *known == name) {
        schemas.push((name.clone(), T::schema()));
        T::schemas(schemas);
    }
    Ref::from_schema_name(name).into()
}

fn http_method(method: Method) -> HttpMethod {
    match method {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn document_json() -> Value {
        serde_json::to_value(document()).expect("the document serialises")
    }

    #[test]
    fn the_document_lists_every_route_and_nothing_else() {
        let doc = document_json();
        let paths = doc["paths"].as_object().expect("paths");
        let described: BTreeSet<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .map(move |method| (method.to_uppercase(), path.clone()))
            })
            .collect();
        let routes: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
            .collect();
        assert_eq!(described, routes);
        for route in &ROUTES {
            let operation = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
            assert_eq!(
                operation["operationId"],
                route.operation_id(),
                "{}",
                route.path
            );
            assert_eq!(operation["security"][0][BEARER], serde_json::json!([]));
            let responses = operation["responses"].as_object().expect("responses");
            let success = route.operation.success_status().to_string();
            assert!(responses.contains_key(&success), "{}", route.path);
            for code in route.errors() {
                let response = &responses[&code.status().to_string()];
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| d.contains(code.name())),
                    "{} {code:?}: {response}",
                    route.path
                );
                assert_eq!(
                    response["content"][JSON]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody"
                );
            }
            assert_eq!(
                responses.len(),
                1 + route
                    .errors()
                    .map(|c| c.status())
                    .collect::<BTreeSet<_>>()
                    .len()
            );
        }
    }

    #[test]
    fn every_body_type_is_in_the_components() {
        let doc = document_json();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for name in [
            "StatusReply",
            "OverviewReply",
            "TenantsReply",
            "BudgetsReply",
            "TimelineReply",
            "DiffReply",
            "ValidateReply",
            "Switched",
            "ReceiptReply",
            "SnapshotsReply",
            "SnapshotEntry",
            "SnapshotStatus",
            "SnapshotAsked",
            "SnapshotName",
            "RollbackRequest",
            "ErrorBody",
            "ErrorCode",
            "Revision",
            "HistoryReply",
            "TenantHistory",
            "ReceiptsReply",
            "ReceiptVerdict",
            "UtcTime",
            "TenantId",
            "ScenariosReply",
            "ScenarioPack",
            "ScenarioOutcome",
            "DriftReply",
            "TimelineDrift",
            "TimelineCanary",
            "ControlEvent",
            "CanaryReply",
            "CanaryRun",
            "TermsRequestsReply",
            "TermsRequestEntry",
            "TermsStatus",
            "PartnerEntry",
            "OnboardingStep",
            "Terms",
            "TermsCap",
            "TermsDecision",
            "FleetReply",
            "FleetNode",
            "FleetPool",
        ] {
            assert!(schemas.contains_key(name), "{name} missing");
        }
        let outcomes = &schemas["ScenarioOutcome"]["enum"];
        assert_eq!(
            *outcomes,
            serde_json::json!(["passed", "failed", "did-not-run", "not-applicable"])
        );
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER],
            serde_json::json!({ "type": "http", "scheme": "bearer" })
        );
    }

    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        out.push(target);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = document_json();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 20, "{found:?}");
        for target in found {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{target} is not a schema reference"));
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "{target} does not resolve"
            );
        }
    }

    #[test]
    fn parameters_and_bodies_are_described_from_the_types() {
        let doc = document_json();
        let parameters = |path: &str, method: &str| -> Vec<(String, String, bool)> {
            doc["paths"][path][method]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or_default().to_owned(),
                        p["in"].as_str().unwrap_or_default().to_owned(),
                        p["required"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        };
        assert_eq!(
            parameters("/api/v1/bundles/{revision}/diff", "get"),
            [
                ("revision".to_owned(), "path".to_owned(), true),
                ("against".to_owned(), "query".to_owned(), false),
            ]
        );
        assert_eq!(
            parameters("/api/v1/receipts/{seq}", "get"),
            [("seq".to_owned(), "path".to_owned(), true)]
        );
        let optional = |name: &str| (name.to_owned(), "query".to_owned(), false);
        assert_eq!(
            parameters("/api/v1/receipts", "get"),
            [
                optional("tenant"),
                optional("from"),
                optional("to"),
                optional("request_id"),
                optional("verdict"),
                optional("before"),
                optional("limit"),
            ]
        );
        assert_eq!(
            parameters("/api/v1/compliance/snapshots/{name}/archive", "get"),
            [("name".to_owned(), "path".to_owned(), true)]
        );
        for (route, expected) in [
            (
                "validate",
                &["allow_cap_below_spent", "allow_partners_dropped"][..],
            ),
            (
                "promote",
                &[
                    "allow_cap_below_spent",
                    "allow_partners_dropped",
                    "override_by",
                    "reason",
                ][..],
            ),
            (
                "drift",
                &["window", "against", "tolerance", "override_by", "reason"][..],
            ),
        ] {
            let path = format!("/api/v1/bundles/{route}");
            let expected: Vec<_> = expected.iter().map(|name| optional(name)).collect();
            assert_eq!(parameters(&path, "post"), expected, "{route}");
            let body = &doc["paths"][&path]["post"]["requestBody"];
            assert_eq!(body["content"][GZIP]["schema"]["format"], "binary");
        }
        let rollback = &doc["paths"]["/api/v1/bundles/rollback"]["post"]["requestBody"];
        assert_eq!(
            rollback["content"][JSON]["schema"]["$ref"],
            "#/components/schemas/RollbackRequest"
        );
        let status = &doc["components"]["schemas"]["StatusReply"];
        let required: BTreeSet<&str> = status["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            required,
            BTreeSet::from(["revision", "bundle_hash", "bundle", "rollback_to", "shards"]),
            "always present, even when null"
        );
    }

    #[test]
    fn busy_says_when_to_retry_and_unauthenticated_how_to_authenticate() {
        let doc = document_json();
        let responses = &doc["paths"]["/api/v1/bundles/rollback"]["post"]["responses"];
        let unavailable = &responses["503"];
        for code in ["busy", "stopping", "not-prepared"] {
            assert!(
                unavailable["description"]
                    .as_str()
                    .is_some_and(|d| d.contains(code)),
                "{code}: {unavailable}"
            );
        }
        assert_eq!(
            unavailable["headers"]["Retry-After"]["schema"]["enum"],
            serde_json::json!([ErrorCode::BUSY_RETRY_AFTER_SECONDS])
        );
        assert_eq!(
            responses["401"]["headers"]["WWW-Authenticate"]["schema"]["enum"],
            serde_json::json!(["Bearer"])
        );
        // A route that never asks the control plane answers no 503.
        let overview = &doc["paths"]["/api/v1/overview"]["get"]["responses"];
        assert!(overview.get("503").is_none(), "{overview}");
    }

    #[test]
    fn a_snapshot_is_asked_with_202_and_its_archive_is_a_gzipped_tar() {
        let doc = document_json();
        let asked = &doc["paths"]["/api/v1/compliance/snapshots"]["post"]["responses"];
        assert!(asked.get("200").is_none(), "{asked}");
        assert_eq!(
            asked["202"]["content"][JSON]["schema"]["$ref"],
            "#/components/schemas/SnapshotAsked"
        );
        assert!(
            asked["409"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("already-asked") && d.contains("already-sealed")),
            "{asked}"
        );
        assert!(
            asked["503"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("compliance-not-running")),
            "{asked}"
        );
        let archive =
            &doc["paths"]["/api/v1/compliance/snapshots/{name}/archive"]["get"]["responses"]["200"];
        assert_eq!(archive["content"][GZIP]["schema"]["format"], "binary");
        assert!(archive["content"].get(JSON).is_none(), "{archive}");
        assert!(
            archive["headers"].get("Content-Disposition").is_some(),
            "{archive}"
        );
        let listed = &doc["paths"]["/api/v1/compliance/snapshots"]["get"];
        assert_eq!(listed["description"], "Roles: sre, auditor.");
        let statuses = &doc["components"]["schemas"]["SnapshotStatus"]["enum"];
        assert_eq!(
            *statuses,
            serde_json::json!([
                "damaged",
                "not-anchored",
                "receipts-held",
                "receipts-pruned"
            ])
        );
    }

    #[test]
    fn the_info_is_the_one_served() {
        let doc = document_json();
        assert_eq!(doc["info"]["title"], TITLE);
        assert_eq!(doc["info"]["version"], VERSION);
        assert!(document().to_pretty_json().is_ok());
    }
}
