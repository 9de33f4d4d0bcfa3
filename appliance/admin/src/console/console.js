// Trust Fabric console: the live overview and bundle upload. Served by the appliance itself.
"use strict";

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
  return names.reduce((sum, name) => sum + (tenant.outcomes[name] || 0), 0);
}

const ERRORS = ["invalid", "rejected", "over_rate", "mailbox_full", "unknown_key", "over_budget", "denied_by_policy"];

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
  if (previous) {
    const seconds = (reading.at_unix_ms - previous.at_unix_ms) / 1000;
    const rate = seconds > 0 ? (reading.answered - previous.answered) / seconds : 0;
    setText("live-rate", rate.toFixed(1) + " /s");
    setText("live-p50", ms(percentile(previous.decision_latency_seconds, reading.decision_latency_seconds, 0.5)));
    setText("live-p95", ms(percentile(previous.decision_latency_seconds, reading.decision_latency_seconds, 0.95)));
    setText("live-p99", ms(percentile(previous.decision_latency_seconds, reading.decision_latency_seconds, 0.99)));
    for (const tenant of reading.tenants) {
      const before = previous.tenants.find((t) => t.tenant === tenant.tenant);
      const decided = sumOutcomes(tenant, ["valid"].concat(ERRORS)) - (before ? sumOutcomes(before, ["valid"].concat(ERRORS)) : 0);
      const errors = sumOutcomes(tenant, ERRORS) - (before ? sumOutcomes(before, ERRORS) : 0);
      setText("rate-" + tenant.tenant, (seconds > 0 ? decided / seconds : 0).toFixed(1));
      setText("errors-" + tenant.tenant, (seconds > 0 ? errors / seconds : 0).toFixed(2));
      setText("total-" + tenant.tenant, String(sumOutcomes(tenant, ["valid"].concat(ERRORS))));
    }
    setText("live-state", "updated " + new Date(reading.at_unix_ms).toISOString().slice(11, 19) + " UTC");
  }
  setText("live-connections", String(reading.connections));
  setText("live-queued", String(reading.queued));
  setTimeout(() => refreshOverview(reading), 2000);
}

async function promote(event) {
  event.preventDefault();
  const form = event.target;
  const file = form.querySelector('input[type="file"]').files[0];
  const result = document.getElementById("promote-result");
  if (!file) { result.textContent = "Choose a bundle file (.tar.gz) first."; return; }
  const allow = form.querySelector('input[name="allow_cap_below_spent"]').checked;
  result.className = "notice";
  result.textContent = "Checking and promoting " + file.name + "…";
  const response = await fetch("/api/v1/bundles/promote" + (allow ? "?allow_cap_below_spent=true" : ""), {
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
  const form = document.getElementById("promote-form");
  if (form) form.addEventListener("submit", promote);
});
