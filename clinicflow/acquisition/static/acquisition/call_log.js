// Live call log: polls the branch's feed every 5 seconds and puts new or changed calls on top.
// No inline script (CSP script-src 'self'): settings come from data attributes on #call-rows.
(function () {
  "use strict";
  var body = document.getElementById("call-rows");
  if (!body || body.getAttribute("data-live") !== "1") { return; }
  var feedUrl = body.getAttribute("data-feed-url");
  var cursor = body.getAttribute("data-cursor");
  var labels = {
    newLead: body.getAttribute("data-label-new-lead") || "New lead",
    unique: body.getAttribute("data-label-unique") || "unique",
    open: body.getAttribute("data-label-open") || "Open"
  };
  var INTERVAL = 5000;

  function cell(tr, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    tr.appendChild(td);
    return td;
  }
  function link(parent, href, text, className) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (className) { a.className = className; }
    parent.appendChild(a);
    return a;
  }
  function span(parent, text, className) {
    var s = document.createElement("span");
    s.textContent = text;
    if (className) { s.className = className; }
    parent.appendChild(s);
    return s;
  }

  // The same cells as templates/acquisition/frontdesk/_row.html; every value goes in as text.
  function buildRow(c) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-call-id", c.id);
    var td = cell(tr);
    var time = document.createElement("time");
    time.setAttribute("datetime", c.iso);
    time.textContent = c.time;
    td.appendChild(time);
    td.appendChild(document.createTextNode(" "));
    span(td, c.date, "muted");
    cell(tr).textContent = c.caller || "—";
    td = cell(tr);
    if (c.patient) { link(td, c.patient.url, c.patient.name); }
    else if (c.new_lead_url) { link(td, c.new_lead_url, labels.newLead, "button secondary"); }
    else { td.textContent = "—"; }
    td = cell(tr);
    td.appendChild(document.createTextNode(c.number || "—"));
    td.appendChild(document.createElement("br"));
    span(td, c.source + (c.campaign ? " · " + c.campaign : ""), "muted");
    cell(tr, c.missed ? "bad" : "").textContent = c.status_label;
    cell(tr, "num").textContent = c.duration;
    cell(tr).textContent = c.administrator;
    td = cell(tr);
    if (c.unique) { span(td, labels.unique, "badge"); }
    td = cell(tr);
    c.tags.forEach(function (t) { span(td, t, "badge"); td.appendChild(document.createTextNode(" ")); });
    cell(tr, "num").textContent = c.score;
    link(cell(tr), c.url, labels.open);
    tr.classList.add("new-call");
    return tr;
  }

  function apply(calls) {
    calls.forEach(function (c) {
      var row = buildRow(c);
      var old = body.querySelector('tr[data-call-id="' + c.id + '"]');
      if (old) { body.replaceChild(row, old); }
      else { body.insertBefore(row, body.firstChild); }
    });
    if (calls.length) {
      var empty = body.querySelector("tr.empty-row");
      if (empty) { empty.parentNode.removeChild(empty); }
    }
  }

  function schedule() { window.setTimeout(poll, INTERVAL); }

  function poll() {
    var sep = feedUrl.indexOf("?") < 0 ? "?" : "&";
    fetch(feedUrl + sep + "cursor=" + encodeURIComponent(cursor), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      if (!r.ok || r.redirected) { throw new Error("feed " + r.status); }
      return r.json();
    }).then(function (data) {
      cursor = data.cursor;
      apply(data.calls || []);
      body.setAttribute("data-cursor", cursor);
      schedule();
    }).catch(function () {
      schedule();
    });
  }

  schedule();
})();
