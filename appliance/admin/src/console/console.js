// Trust Fabric console: the live overview, its last hour, and bundle upload. Served by the
// appliance itself.
"use strict";

// The outcome classes, as the admin API's contract names them (tf_admin_api::Outcomes, which a
// test checks these two lines against): an invalid verdict is an answer, not an error.
const REFUSALS = ["over_rate", "mailbox_full", "unknown_key", "over_budget", "denied_by_policy"];
const ERRORS = ["rejected"];
const OUTCOMES = ["valid", "invalid"].concat(REFUSALS, ERRORS);

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Percentile from two readings of cumulative latency buckets (seconds), interpolated inside
// the bucket where it falls; null when nothing was decided in between.
function percentile(before, after, q) {
  const counts = after.buckets.map((b, i) => b.count - (before ? before.buckets[i].count : 0));
  const total = counts[counts.length - 1];
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] >= rank) {
      const upper = after.buckets[i].le === "+Inf" ? lower * 2 || 10 : after.buckets[i].le;
      const below = i === 0 ? 0 : counts[i - 1];
      const inside = counts[i] - below;
      const fraction = inside > 0 ? (rank - below) / inside : 1;
      return lower + (upper - lower) * fraction;
    }
    lower = after.buckets[i].le === "+Inf" ? lower : after.buckets[i].le;
  }
  return null;
}

function sumOutcomes(tenant, names) {
  return tenant ? names.reduce((sum, name) => sum + (tenant.outcomes[name] || 0), 0) : 0;
}

function setText(id, text) {
  const element = document.getElementById(id);
  if (element) element.textContent = text;
}

function ms(seconds) {
  return seconds === null ? "–" : (seconds * 1000).toFixed(1) + " ms";
}

async function refreshOverview(previous) {
  let reading;
  try {
    const response = await fetch("/api/v1/overview", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) { window.location = "/console/login"; return; }
    reading = await response.json();
  } catch (error) {
    setText("live-state", "appliance unreachable: " + error);
    setTimeout(() => refreshOverview(previous), 2000);
    return;
  }
  let invalid = 0;
  let errors = 0;
  for (const tenant of reading.tenants) {
    const name = tenant.tenant;
    invalid += sumOutcomes(tenant, ["invalid"]);
    errors += sumOutcomes(tenant, ERRORS);
    setText("valid-" + name, String(sumOutcomes(tenant, ["valid"])));
    setText("invalid-" + name, String(sumOutcomes(tenant, ["invalid"])));
    setText("refused-" + name, String(sumOutcomes(tenant, REFUSALS)));
    setText("errors-" + name, String(sumOutcomes(tenant, ERRORS)));
  }
  setText("live-invalid", String(invalid));
  setText("live-errors", String(errors));
  if (previous) {
    const seconds = (reading.at_unix_ms - previous.at_unix_ms) / 1000;
    const perSecond = (count) => (seconds > 0 ? count / seconds : 0);
    setText("live-rate", perSecond(reading.answered - previous.answered).toFixed(1) + " /s");
    setText("live-p50", ms(percentile(previous.decision_latency_seconds, reading.decision_latency_seconds, 0.5)));
    setText("live-p95", ms(percentile(previous.decision_latency_seconds, reading.decision_latency_seconds, 0.95)));
    setText("live-p99", ms(percentile(previous.decision_latency_seconds, reading.decision_latency_seconds, 0.99)));
    for (const tenant of reading.tenants) {
      const before = previous.tenants.find((t) => t.tenant === tenant.tenant);
      const grew = (names) => sumOutcomes(tenant, names) - sumOutcomes(before, names);
      setText("rate-" + tenant.tenant, perSecond(grew(OUTCOMES)).toFixed(1));
      setText("invalid-rate-" + tenant.tenant, perSecond(grew(["invalid"])).toFixed(1));
      setText("refused-rate-" + tenant.tenant, perSecond(grew(REFUSALS)).toFixed(1));
      setText("errors-rate-" + tenant.tenant, perSecond(grew(ERRORS)).toFixed(2));
    }
    setText("live-state", "updated " + new Date(reading.at_unix_ms).toISOString().slice(11, 19) + " UTC");
  }
  setText("live-connections", String(reading.connections));
  setText("live-queued", String(reading.queued));
  setTimeout(() => refreshOverview(reading), 2000);
}

// The last hour's charts, drawn by the appliance: put in place as they come, every 5 s (a
// sample is taken every 10 s).
async function refreshHistory() {
  try {
    const response = await fetch("/console/overview/history", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) { window.location = "/console/login"; return; }
    if (response.ok) document.getElementById("history").innerHTML = await response.text();
  } catch (error) {
    // The live figures say when the appliance cannot be reached.
  }
  setTimeout(refreshHistory, 5000);
}

async function promote(event) {
  event.preventDefault();
  const form = event.target;
  const file = form.querySelector('input[type="file"]').files[0];
  const result = document.getElementById("promote-result");
  if (!file) { result.textContent = "Choose a bundle file (.tar.gz) first."; return; }
  const allowed = ["allow_cap_below_spent", "allow_partners_dropped"]
    .filter((name) => form.querySelector('input[name="' + name + '"]').checked)
    .map((name) => name + "=true");
  result.className = "notice";
  result.textContent = "Checking and promoting " + file.name + "…";
  const query = allowed.length ? "?" + allowed.join("&") : "";
  const response = await fetch("/api/v1/bundles/promote" + query, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/gzip" },
    body: file,
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) {
    result.className = "notice good";
    result.textContent = "Revision " + body.to_revision + " is in force" +
      (body.all_shards_ms !== null ? " on every shard after " + body.all_shards_ms.toFixed(0) + " ms." : ".");
    setTimeout(() => window.location.reload(), 800);
  } else {
    result.className = "notice bad";
    const problems = (body.problems || []).map((p) => "\n• " + p.message).join("");
    result.textContent = (body.message || ("HTTP " + response.status)) + problems;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("live")) refreshOverview(null);
  if (document.getElementById("history")) setTimeout(refreshHistory, 5000);
  const form = document.getElementById("promote-form");
  if (form) form.addEventListener("submit", promote);
});
