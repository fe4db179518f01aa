// Live refresh of the adofleet dashboard. The server renders the whole page;
// this script only re-reads api/status every few seconds and updates the
// numbers in place. Without it the page stays a correct static snapshot.
(function () {
  "use strict";

  var body = document.body;
  var interval = parseInt(body.getAttribute("data-refresh-ms"), 10) || 2000;
  var poolRows = document.getElementById("pool-rows");
  var poolTemplate = document.getElementById("pool-template");
  var decisionRows = document.getElementById("decision-rows");
  var lastDecisions = null;

  // Go's zero time.Time marshals as year 1; the server shows it as empty.
  function isZero(iso) {
    return !iso || iso.indexOf("0001-01-01") === 0;
  }

  // fmtStamp and fmtClock mirror stamp and clock in page.go.
  function fmtStamp(iso) {
    if (isZero(iso)) return "\u2014";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function fmtClock(iso) {
    if (isZero(iso)) return "never";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toISOString().slice(11, 19);
  }

  function setText(el, text) {
    text = String(text);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function setAttr(el, name, value) {
    value = String(value);
    if (el && el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  function setTime(el, iso, fmt) {
    if (!el) return;
    setText(el, fmt(iso));
    setAttr(el, "datetime", isZero(iso) ? "" : iso);
    setAttr(el, "title", fmtStamp(iso));
  }

  function field(root, name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  function showError(msg) {
    var banner = document.getElementById("error-banner");
    setText(document.getElementById("error-text"), msg);
    banner.hidden = false;
    var live = document.getElementById("live");
    live.hidden = false;
    live.classList.add("stale");
    setText(live, "stale");
    body.classList.add("stale");
  }

  function clearError() {
    document.getElementById("error-banner").hidden = true;
    var live = document.getElementById("live");
    live.hidden = false;
    live.classList.remove("stale");
    setText(live, "live");
    body.classList.remove("stale");
  }

  // newPoolRow clones the server-rendered row template for a pool that
  // appeared since the page loaded.
  function newPoolRow(name) {
    var row = poolTemplate.content.firstElementChild.cloneNode(true);
    row.setAttribute("data-pool", name);
    var cells = row.querySelectorAll("[data-pool]");
    for (var i = 0; i < cells.length; i++) cells[i].setAttribute("data-pool", name);
    return row;
  }

  function updateBar(row, p) {
    var svg = field(row, "bar");
    if (!svg) return;
    var max = p.max > 0 ? p.max : 0;
    var left = 100;
    function take(n) {
      if (max === 0) return 0;
      var w = Math.min(Math.max((n * 100) / max, 0), left);
      left -= w;
      return w;
    }
    var busy = take(p.agents.busy);
    var idle = take(p.agents.idle);
    var starting = take(p.agents.starting);
    var segs = { busy: [0, busy], idle: [busy, idle], starting: [busy + idle, starting] };
    Object.keys(segs).forEach(function (k) {
      var r = svg.querySelector('[data-seg="' + k + '"]');
      setAttr(r, "x", segs[k][0].toFixed(2));
      setAttr(r, "width", segs[k][1].toFixed(2));
    });
    var label = p.agents.busy + " busy, " + p.agents.idle + " idle, " +
      p.agents.starting + " starting of max " + p.max;
    setAttr(svg, "aria-label", label);
    setText(svg.querySelector("title"), label);
  }

  function updatePool(row, p) {
    setText(field(row, "name"), p.name);
    setText(field(row, "provider"), p.provider);
    setText(field(row, "min"), p.min);
    setText(field(row, "standby"), p.standby);
    setText(field(row, "max"), p.max);
    setText(field(row, "queued"), p.queued_jobs);
    setText(field(row, "running"), p.running_jobs);
    setText(field(row, "starting"), p.agents.starting);
    setText(field(row, "idle"), p.agents.idle);
    setText(field(row, "busy"), p.agents.busy);
    setText(field(row, "draining"), p.agents.draining);
    setText(field(row, "offline"), p.agents.offline);
    setTime(field(row, "last_reconcile"), p.last_reconcile, fmtClock);
    setText(field(row, "last_error"), p.last_error || "");
    row.classList.toggle("has-error", !!p.last_error);
    updateBar(row, p);
  }

  function renderPools(pools) {
    var existing = {};
    var rows = poolRows.querySelectorAll("tr[data-pool]");
    for (var i = 0; i < rows.length; i++) existing[rows[i].getAttribute("data-pool")] = rows[i];
    pools.forEach(function (p, i) {
      var row = existing[p.name] || newPoolRow(p.name);
      delete existing[p.name];
      updatePool(row, p);
      // Insert or move only when out of place, so unchanged rows keep their
      // identity and any text selection.
      if (poolRows.children[i] !== row) poolRows.insertBefore(row, poolRows.children[i] || null);
    });
    Object.keys(existing).forEach(function (name) { existing[name].remove(); });
    document.getElementById("no-pools").hidden = pools.length > 0;
  }

  function renderTotals(pools) {
    var t = { total_pools: pools.length, total_queued: 0, total_running: 0, total_agents: 0 };
    pools.forEach(function (p) {
      t.total_queued += p.queued_jobs;
      t.total_running += p.running_jobs;
      t.total_agents += p.agents.starting + p.agents.idle + p.agents.busy + p.agents.draining;
    });
    Object.keys(t).forEach(function (k) { setText(field(document, k), t[k]); });
  }

  function cell(tag, fieldName, text) {
    var el = document.createElement(tag);
    if (fieldName) el.setAttribute("data-field", fieldName);
    el.textContent = text;
    return el;
  }

  // renderDecisions rebuilds the log only when it changed. It builds nodes
  // with textContent, never innerHTML, so reasons are never parsed as HTML.
  function renderDecisions(decisions) {
    var key = JSON.stringify(decisions);
    if (key === lastDecisions) return;
    lastDecisions = key;
    var frag = document.createDocumentFragment();
    decisions.forEach(function (d, i) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-decision", String(i));
      var tdTime = document.createElement("td");
      tdTime.className = "time";
      var t = cell("time", "time", "");
      setTime(t, d.time, fmtClock);
      tdTime.appendChild(t);
      tr.appendChild(tdTime);
      tr.appendChild(cell("td", "pool", d.pool));
      var tdAction = document.createElement("td");
      var badge = cell("span", "action", d.action);
      badge.className = "action";
      badge.setAttribute("data-action", d.action);
      tdAction.appendChild(badge);
      tr.appendChild(tdAction);
      var target = cell("td", "target", d.target);
      target.className = "target";
      tr.appendChild(target);
      var reason = cell("td", "reason", d.reason);
      reason.className = "reason";
      tr.appendChild(reason);
      frag.appendChild(tr);
    });
    decisionRows.replaceChildren(frag);
    document.getElementById("no-decisions").hidden = decisions.length > 0;
    var sub = document.querySelector("#decisions-h .sub");
    setText(sub, "newest first, last " + decisions.length);
  }

  function render(s) {
    setTime(document.getElementById("generated-at"), s.generated_at, fmtStamp);
    var pools = s.pools || [];
    renderTotals(pools);
    renderPools(pools);
    renderDecisions(s.decisions || []);
  }

  function refresh() {
    fetch("api/status", { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (!res.ok) throw new Error(body.error || "HTTP " + res.status);
          return body;
        });
      })
      .then(function (s) { render(s); clearError(); })
      .catch(function (err) {
        // fetch rejects with a TypeError when the server cannot be reached.
        var msg = err instanceof TypeError ? "cannot reach the server (" + err.message + ")" : err.message;
        showError(msg || String(err));
      })
      .then(function () { setTimeout(refresh, interval); });
  }

  if (document.getElementById("error-banner").hidden) clearError();
  setTimeout(refresh, interval);
})();
