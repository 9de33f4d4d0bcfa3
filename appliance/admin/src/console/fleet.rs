//! The console's Fleet page (fleet mode only): each appliance live or down, when it was last
//! seen, the revision it serves under (one behind the newest stands out), how far its shipping
//! lags and what it holds in budget leases; then every budget pool of the current windows as
//! numbers and a bar. It reads what `GET /api/v1/fleet` answers; while the fleet's database
//! does not answer, the page says so with the database's words.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::{FleetNode, FleetPool, FleetReply, Revision};

use super::html::{self, esc, page};
use super::{error_page, error_text, logged_in, text, text_or_dash};
use crate::api::{self, ApiState};
use crate::auth::Permission;

const HERE: &str = "/console/fleet";

/// `GET /console/fleet`.
pub async fn show(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(error) = api::may(&session.principal, Permission::Read) {
        return error_page(&error, &session, HERE);
    }
    let this = state.fleet.as_ref().map(|fleet| fleet.node.as_str());
    match api::fleet_value(&state).await {
        Ok(reply) => page(
            StatusCode::OK,
            "Fleet",
            HERE,
            Some(&session),
            &content(&reply, this),
        ),
        // Outside fleet mode (404), or the database away (503): the page with the reason.
        Err(error) => {
            let (status, message) = error_text(&error);
            let body = format!(
                "<div id=\"fleet-problem\">{}</div>",
                html::notice("bad", &message)
            );
            page(status, "Fleet", HERE, Some(&session), &body)
        }
    }
}

/// The page's content (apart from the handler, so tests render it without a server); `this`
/// is this appliance's node name.
fn content(reply: &FleetReply, this: Option<&str>) -> String {
    let live = reply.nodes.iter().filter(|node| node.live).count();
    let mut body = String::new();
    let _ = write!(
        body,
        "<p id=\"fleet-summary\">Fleet database <code>{}</code>: {} appliance(s), {live} live \
         (live: a heartbeat within {} s).",
        esc(&reply.database),
        reply.nodes.len(),
        reply.live_within_us / 1_000_000
    );
    if let Some(this) = this {
        let _ = write!(body, " This appliance is <code>{}</code>.", esc(this));
    }
    body.push_str("</p>");
    let newest = reply.nodes.iter().filter_map(|node| node.revision).max();
    let behind = |node: &FleetNode| node.revision.is_some_and(|r| Some(r) != newest);
    if let Some(newest) = newest
        && reply.nodes.iter().any(behind)
    {
        body.push_str(&html::notice(
            "bad",
            &format!(
                "Not every appliance serves under revision {newest}, the newest: those on \
                 another are marked. Appliances apart for long are a promotion or rollback \
                 that has not reached them."
            ),
        ));
    }
    nodes(reply, newest, this, &mut body);
    body.push_str("<h2>Budget pools of the current windows</h2>");
    pools(&reply.pools, &mut body);
    body
}

/// The appliances' table.
fn nodes(reply: &FleetReply, newest: Option<Revision>, this: Option<&str>, body: &mut String) {
    body.push_str(
        "<table id=\"fleet-nodes\"><thead><tr><th>Appliance</th><th>State</th>\
         <th>Last seen</th><th class=\"num\">Revision</th>\
         <th class=\"num\" title=\"Receipts committed to its ledger and not yet in the fleet's \
         database\">Lag</th><th>Last shipped</th><th class=\"num\">Leases</th>\
         <th class=\"num\" title=\"Units of its open leases not reported spent\">Units held</th>\
         <th class=\"num\" title=\"Leases taken back after they expired, not settled yet\">\
         Taken back</th><th class=\"num\" title=\"Their units not reported spent: possibly \
         spent, until it settles them when it is back\">In doubt</th><th>Version</th></tr>\
         </thead><tbody>",
    );
    if reply.nodes.is_empty() {
        body.push_str(
            "<tr><td colspan=\"11\" class=\"muted\">No appliance has reported to the fleet's \
             database yet.</td></tr>",
        );
    }
    let now = reply.now_unix_us;
    for node in &reply.nodes {
        let name = esc(&node.node);
        let state = if node.live { "live" } else { "down" };
        let here = if this == Some(node.node.as_str()) {
            " <span class=\"muted\">(this one)</span>"
        } else {
            ""
        };
        let revision = match (node.revision, newest) {
            (Some(revision), Some(newest)) if revision != newest => format!(
                "<td class=\"num revision behind\" title=\"not the newest, revision {newest}\">\
                 {revision}</td>"
            ),
            (revision, _) => format!("<td class=\"num revision\">{}</td>", text_or_dash(revision)),
        };
        let _ = write!(
            body,
            "<tr class=\"node {state}\" data-node=\"{name}\"><td><code>{name}</code>{here}</td>\
             <td><span class=\"badge {state}\">{state}</span></td><td>{}</td>{revision}\
             <td class=\"num lag\">{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td>{}</td></tr>",
            moment(node.last_seen_unix_us, now),
            text_or_dash(node.lag_receipts),
            moment(node.shipped_unix_us, now),
            text(node.open_leases),
            text(node.units_held),
            text(node.taken_back),
            text(node.in_doubt),
            text_or_dash(node.version.as_ref()),
        );
    }
    body.push_str("</tbody></table>");
}

/// The pools' table, each with a bar of what is spent, leased, in doubt and unused.
fn pools(pools: &[FleetPool], body: &mut String) {
    body.push_str(
        "<table id=\"fleet-pools\"><thead><tr><th>Tenant</th><th>Purpose</th><th>Class</th>\
         <th>Window</th><th>From (UTC)</th><th class=\"num\">Cap</th>\
         <th class=\"num\">Spent</th><th class=\"num\">Leased</th>\
         <th class=\"num\">In doubt</th><th class=\"num\">Unused</th><th>Of the cap</th></tr>\
         </thead><tbody>",
    );
    if pools.is_empty() {
        body.push_str(
            "<tr><td colspan=\"11\" class=\"muted\">No budget pool in a current window: no \
             appliance has leased from a cap yet.</td></tr>",
        );
    }
    for pool in pools {
        let _ = write!(
            body,
            "<tr class=\"pool\" data-tenant=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td class=\"num cap\">{}</td><td class=\"num spent\">{}</td>\
             <td class=\"num leased\">{}</td><td class=\"num in-doubt\">{}</td>\
             <td class=\"num unused\">{}</td><td>{}</td></tr>",
            esc(&pool.tenant.0),
            text(&pool.tenant.0),
            esc(pool.purpose.as_deref().unwrap_or("every purpose")),
            text(&pool.class),
            text(&pool.window),
            esc(&tf_budgets::format_utc(
                pool.window_start_unix_us / 1_000_000
            )),
            text(pool.cap),
            text(pool.spent),
            text(pool.leased),
            text(pool.in_doubt),
            text(pool.unused),
            bar(pool),
        );
    }
    body.push_str(
        "</tbody></table><ul class=\"legend\">\
         <li><span class=\"swatch pool-spent\"></span>spent</li>\
         <li><span class=\"swatch pool-leased\"></span>leased</li>\
         <li><span class=\"swatch pool-in-doubt\"></span>in doubt</li>\
         <li><span class=\"swatch pool-unused\"></span>unused</li></ul>",
    );
}

/// A pool as one bar: spent, leased, in doubt and unused side by side, as shares of the cap
/// (of what is counted, under a cap lowered below it). An inline SVG whose colours come from
/// console.css by class, so the Content Security Policy needs no inline style.
fn bar(pool: &FleetPool) -> String {
    let parts = [
        ("pool-spent", pool.spent),
        ("pool-leased", pool.leased),
        ("pool-in-doubt", pool.in_doubt),
        ("pool-unused", pool.unused),
    ];
    let whole = parts
        .iter()
        .map(|(_, units)| *units)
        .sum::<u64>()
        .max(pool.cap)
        .max(1);
    let mut svg = format!(
        "<svg class=\"pool-bar\" viewBox=\"0 0 100 8\" preserveAspectRatio=\"none\" \
         role=\"img\" aria-label=\"{} spent, {} leased, {} in doubt, {} unused of {}\">",
        pool.spent, pool.leased, pool.in_doubt, pool.unused, pool.cap
    );
    let mut x = 0.0;
    for (class, units) in parts {
        let width = units as f64 * 100.0 / whole as f64;
        if width > 0.0 {
            let _ = write!(
                svg,
                "<rect class=\"{class}\" x=\"{x:.2}\" y=\"0\" width=\"{width:.2}\" height=\"8\"/>"
            );
        }
        x += width;
    }
    svg.push_str("</svg>");
    svg
}

/// A moment as how long ago it was, its UTC time on hover; `never` for none.
fn moment(unix_us: Option<u64>, now_us: u64) -> String {
    let Some(unix_us) = unix_us else {
        return "<span class=\"muted\">never</span>".to_owned();
    };
    format!(
        "<span title=\"{} UTC\">{}</span>",
        esc(&tf_budgets::format_utc(unix_us / 1_000_000)),
        ago(unix_us, now_us)
    )
}

/// How long before `now_us` a moment was, in its largest whole unit (a moment after it, from
/// another host's clock, is `just now`).
fn ago(unix_us: u64, now_us: u64) -> String {
    let seconds = now_us.saturating_sub(unix_us) / 1_000_000;
    match seconds {
        0 => "just now".to_owned(),
        1..60 => format!("{seconds} s ago"),
        60..3_600 => format!("{} min ago", seconds / 60),
        3_600..86_400 => format!("{} h ago", seconds / 3_600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_514_400_000_000;
    const SECOND: u64 = 1_000_000;

    fn node(name: &str, live: bool, revision: Option<u64>) -> FleetNode {
        FleetNode {
            node: name.into(),
            live,
            started_unix_us: revision.map(|_| NOW - 3_600 * SECOND),
            last_seen_unix_us: revision.map(|_| NOW - 2 * SECOND),
            revision: revision.map(Revision),
            committed_seq: revision.map(|_| 12),
            version: revision.map(|_| "0.1.0".into()),
            receipt_key: None,
            shipped_seq: None,
            shipped_unix_us: None,
            lag_receipts: revision.map(|_| 12),
            since_shipped_us: None,
            open_leases: 1,
            units_held: 60,
            taken_back: 0,
            in_doubt: 0,
        }
    }

    fn reply(nodes: Vec<FleetNode>) -> FleetReply {
        FleetReply {
            database: "postgres://fleet@db:5432/<fleet>".into(),
            now_unix_us: NOW,
            live_within_us: 30 * SECOND,
            nodes,
            pools: vec![FleetPool {
                tenant: "acme".into(),
                purpose: None,
                class: "P1".into(),
                window: "day".into(),
                window_start_unix_us: 1_795_478_400 * SECOND,
                cap: 1_000,
                spent: 400,
                leased: 100,
                in_doubt: 0,
                unused: 500,
            }],
        }
    }

    #[test]
    fn a_node_behind_the_newest_revision_stands_out_and_one_never_seen_says_so() {
        let html = content(
            &reply(vec![
                node("node-a", true, Some(4)),
                node("node-b", true, Some(3)),
                node("node-c", false, None),
            ]),
            Some("node-a"),
        );
        assert!(
            html.contains("<code>postgres://fleet@db:5432/&lt;fleet&gt;</code>"),
            "{html}"
        );
        assert!(html.contains("3 appliance(s), 2 live"), "{html}");
        assert!(
            html.contains("Not every appliance serves under revision 4"),
            "{html}"
        );
        assert!(
            html.contains(
                "<td class=\"num revision behind\" title=\"not the newest, revision 4\">3</td>"
            ),
            "{html}"
        );
        assert_eq!(html.matches("revision behind").count(), 1, "{html}");
        assert!(
            html.contains("<span class=\"badge down\">down</span>"),
            "{html}"
        );
        assert!(html.contains("<code>node-a</code> <span class=\"muted\">(this one)</span>"));
        assert!(html.contains("2 s ago"), "{html}");
        assert!(
            html.contains("<span class=\"muted\">never</span>"),
            "{html}"
        );
    }

    #[test]
    fn nodes_on_one_revision_raise_no_notice() {
        let html = content(
            &reply(vec![
                node("node-a", true, Some(4)),
                node("node-b", true, Some(4)),
            ]),
            None,
        );
        assert!(!html.contains("Not every appliance"), "{html}");
        assert!(!html.contains("behind"), "{html}");
    }

    #[test]
    fn a_pools_bar_shares_out_its_cap() {
        let html = content(&reply(Vec::new()), None);
        assert!(html.contains("No appliance has reported"), "{html}");
        assert!(
            html.contains(
                "<rect class=\"pool-spent\" x=\"0.00\" y=\"0\" width=\"40.00\" height=\"8\"/>\
                 <rect class=\"pool-leased\" x=\"40.00\" y=\"0\" width=\"10.00\" height=\"8\"/>\
                 <rect class=\"pool-unused\" x=\"50.00\" y=\"0\" width=\"50.00\" height=\"8\"/>"
            ),
            "{html}"
        );
        assert!(html.contains("every purpose"), "{html}");
        assert!(html.contains("2026-11-24T00:00:00Z"), "{html}");
    }

    #[test]
    fn moments_read_in_their_largest_unit() {
        assert_eq!(ago(NOW, NOW), "just now");
        assert_eq!(ago(NOW + SECOND, NOW), "just now");
        assert_eq!(ago(NOW - 59 * SECOND, NOW), "59 s ago");
        assert_eq!(ago(NOW - 600 * SECOND, NOW), "10 min ago");
        assert_eq!(ago(NOW - 7_200 * SECOND, NOW), "2 h ago");
        assert_eq!(ago(NOW - 3 * 86_400 * SECOND, NOW), "3 d ago");
    }
}
