// Live updates of the adofleet dashboard. The server renders the whole page;
// this script listens to api/events (server-sent events; polling api/status
// when the stream is refused) and updates the numbers and tables in place,
// and swaps in fresh charts from chart/{pool} when new samples arrive.
// Without it the page stays a correct static snapshot.
(function () {
  "use strict";

  var body = document.body;
  var interval = parseInt(body.getAttribute("data-refresh-ms"), 10) || 2000;
  var chartWindow = body.getAttribute("data-window") || "1h";
  var sampledAt = body.getAttribute("data-sampled-at") || "";
  var poolRows = document.getElementById("pool-rows");
  var poolTemplate = document.getElementById("pool-template");
  var charts = document.getElementById("charts");
  var lastLists = {};
  var chartsBusy = false;

  // Go's zero time.Time marshals as year 1; the server shows it as empty.
  function isZero(iso) {
    return !iso || iso.indexOf("0001-01-01") === 0;
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  // formats mirror the template funcs of the same names in page.go.
  var formats = {
    text: function (v) { return v === undefined || v === null ? "" : String(v); },
    stamp: function (iso) {
      if (isZero(iso)) return "\u2014";
      var d = new Date(iso);
      return isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
    },
    clock: function (iso) {
      if (isZero(iso)) return "never";
      var d = new Date(iso);
      return isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 19);
    },
    time: function (iso) { return isZero(iso) ? "\u2014" : formats.clock(iso); },
    dur: function (secs) {
      var n = Math.round(secs || 0);
      if (n <= 0) return "\u2014";
      if (n < 60) return n + "s";
      if (n < 3600) return Math.floor(n / 60) + "m" + pad(n % 60) + "s";
      if (n < 86400) return Math.floor(n / 3600) + "h" + pad(Math.floor((n % 3600) / 60)) + "m";
      return Math.floor(n / 86400) + "d" + pad(Math.floor((n % 86400) / 3600)) + "h";
    },
    money: function (v) { return (v || 0).toFixed(2); },
    cost: function (v, price) { return price > 0 ? formats.money(v) : "\u2014"; },
    hours: function (v) { return (v || 0).toFixed(1); },
    id: function (v) { return v ? String(v) : "\u2014"; }
  };

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
    setAttr(el, "title", formats.stamp(iso));
  }

  function field(root, name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  function setLive(ok, msg) {
    var live = document.getElementById("live");
    live.hidden = false;
    live.classList.toggle("stale", !ok);
    setText(live, ok ? "live" : "stale");
    body.classList.toggle("stale", !ok);
    document.getElementById("error-banner").hidden = ok;
    if (!ok) setText(document.getElementById("error-text"), msg);
  }

  // --- pools and totals ---------------------------------------------------

  function newPoolRow(name) {
    var row = poolTemplate.content.firstElementChild.cloneNode(true);
    row.setAttribute("data-pool", name);
    var cells = row.querySelectorAll("[data-pool]");
    for (var i = 0; i < cells.length; i++) cells[i].setAttribute("data-pool", name);
    return row;
  }

  // updateBar mirrors newBar in page.go.
  function updateBar(row, p) {
    var svg = field(row, "bar");
    if (!svg) return;
    var left = 100;
    function take(n) {
      if (!(p.max > 0)) return 0;
      var w = Math.min(Math.max((n * 100) / p.max, 0), left);
      left -= w;
      return w;
    }
    var busy = take(p.agents.busy), idle = take(p.agents.idle), starting = take(p.agents.starting);
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
    var values = {
      name: p.name, provider: p.provider, min: p.min, standby: p.standby, max: p.max,
      queued: p.queued_jobs, running: p.running_jobs, starting: p.agents.starting,
      idle: p.agents.idle, busy: p.agents.busy, draining: p.agents.draining,
      offline: p.agents.offline, last_error: p.last_error || "",
      cost_24h: formats.cost(p.cost.last_24h, p.cost.per_agent_hour),
      cost_day: formats.cost(p.cost.per_day, p.cost.per_agent_hour)
    };
    Object.keys(values).forEach(function (k) { setText(field(row, k), values[k]); });
    setAttr(field(row, "cost_24h"), "title", formats.hours(p.cost.agent_hours_24h) +
      " agent-hours at " + formats.money(p.cost.per_agent_hour) + " per hour");
    setTime(field(row, "last_reconcile"), p.last_reconcile, formats.clock);
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

  function renderTotals(s) {
    var t = { total_pools: s.pools.length, total_queued: 0, total_running: 0, total_agents: 0,
      total_checks: s.checks.length, total_cost_24h: 0, currency: s.currency };
    s.pools.forEach(function (p) {
      t.total_queued += p.queued_jobs;
      t.total_running += p.running_jobs;
      t.total_agents += p.agents.starting + p.agents.idle + p.agents.busy + p.agents.draining;
      t.total_cost_24h += p.cost.last_24h;
    });
    t.total_cost_24h = s.currency ? formats.money(t.total_cost_24h) : "\u2014";
    Object.keys(t).forEach(function (k) { setText(field(document, k), t[k]); });
  }

  // --- lists: decisions, failures, agents, checks ---------------------------

  // fill writes item's values into the data-field cells of a cloned row, with
  // textContent only, so no value is ever parsed as HTML.
  function fill(row, item) {
    var cells = row.querySelectorAll("[data-field]");
    for (var i = 0; i < cells.length; i++) {
      var el = cells[i], name = el.getAttribute("data-field");
      var fmt = formats[el.getAttribute("data-format") || "text"] || formats.text;
      if (el.tagName === "TIME") setTime(el, item[name], fmt);
      else setText(el, fmt(item[name]));
      if (el.hasAttribute("data-value")) setAttr(el, "data-value", item[name]);
    }
  }

  // renderList rebuilds a table body only when its list changed.
  function renderList(name, items) {
    var key = JSON.stringify(items);
    if (key === lastLists[name]) return;
    lastLists[name] = key;
    var tbody = document.querySelector('[data-list="' + name + '"]');
    var tmpl = document.querySelector('template[data-template="' + name + '"]');
    if (!tbody || !tmpl) return;
    var prefix = tbody.getAttribute("data-row-prefix");
    var frag = document.createDocumentFragment();
    items.forEach(function (item, i) {
      var row = tmpl.content.firstElementChild.cloneNode(true);
      row.setAttribute("data-row", prefix + "/" + i);
      fill(row, item);
      frag.appendChild(row);
    });
    tbody.replaceChildren(frag);
    var empty = document.querySelector('[data-empty="' + name + '"]');
    if (empty) empty.hidden = items.length > 0;
    setText(document.querySelector('[data-count="' + name + '"]'), items.length);
  }

  // --- charts -----------------------------------------------------------------

  function chartCard(pool) {
    var cards = charts.querySelectorAll("[data-chart-card]");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i].getAttribute("data-chart-card") === pool) return cards[i];
    }
    var card = document.createElement("figure");
    card.className = "chart-card";
    card.setAttribute("data-chart-card", pool);
    var cap = document.createElement("figcaption");
    cap.textContent = pool;
    card.appendChild(cap);
    charts.appendChild(card);
    return card;
  }

  // loadChart fetches the server-drawn SVG and swaps it in. The SVG is parsed
  // as an inert document, then imported: nothing in it runs.
  function loadChart(pool) {
    var url = "chart/" + encodeURIComponent(pool) + "?window=" + encodeURIComponent(chartWindow);
    return fetch(url, { cache: "no-store" })
      .then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "image/svg+xml");
        var svg = doc.documentElement;
        if (svg.nodeName !== "svg") throw new Error("not an SVG");
        var card = chartCard(pool);
        var old = card.querySelector("svg.chart");
        var fresh = document.importNode(svg, true);
        if (old) old.replaceWith(fresh); else card.appendChild(fresh);
      });
  }

  function refreshCharts(s) {
    if (!charts || isZero(s.sampled_at) || s.sampled_at === sampledAt || chartsBusy) return;
    chartsBusy = true;
    var want = s.sampled_at;
    Promise.all(s.pools.map(function (p) { return loadChart(p.name); }))
      .then(function () {
        sampledAt = want;
        body.setAttribute("data-sampled-at", want);
        document.getElementById("charts-error").hidden = true;
      })
      .catch(function (err) {
        var note = document.getElementById("charts-error");
        setText(note, "Charts not updated: " + err.message);
        note.hidden = false;
      })
      .then(function () { chartsBusy = false; });
  }

  // --- data flow --------------------------------------------------------------

  function render(s) {
    ["pools", "decisions", "agents", "failures", "checks"].forEach(function (k) { s[k] = s[k] || []; });
    setTime(document.getElementById("generated-at"), s.generated_at, formats.stamp);
    renderTotals(s);
    renderPools(s.pools);
    ["decisions", "failures", "agents", "checks"].forEach(function (k) { renderList(k, s[k]); });
    refreshCharts(s);
    setLive(true);
  }

  function poll() {
    fetch("api/status", { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (b) {
          if (!res.ok) throw new Error(b.error || "HTTP " + res.status);
          return b;
        });
      })
      .then(render)
      .catch(function (err) {
        // fetch rejects with a TypeError when the server cannot be reached.
        setLive(false, err instanceof TypeError ? "cannot reach the server (" + err.message + ")" : err.message);
      })
      .then(function () { setTimeout(poll, interval); });
  }

  function stream() {
    if (!window.EventSource) { setTimeout(poll, interval); return; }
    var es = new EventSource("api/events");
    es.addEventListener("status", function (e) { render(JSON.parse(e.data)); });
    es.addEventListener("failure", function (e) { setLive(false, JSON.parse(e.data).error); });
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) {
        // Refused (too many streams) or not a stream: poll instead.
        es.close();
        setTimeout(poll, interval);
      } else {
        setLive(false, "cannot reach the server (reconnecting)");
      }
    };
  }

  if (document.getElementById("error-banner").hidden) setLive(true);
  stream();
})();
