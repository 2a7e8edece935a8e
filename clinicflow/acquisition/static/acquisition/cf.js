/* Clinicflow call tracking. Paste once into the clinic's site:
 *   <script src="https://CLINICFLOW/t/cf.js" data-key="pk_..." data-branch="moscow" async></script>
 * Records the visit, shows a tracking number from the dynamic pool in every element marked
 * data-cf-phone (and its tel: link), and posts forms marked data-cf-lead as leads.
 * No dependencies; every step is guarded so it never throws on the host page. */
(function () {
  "use strict";
  try {
    var script = document.currentScript;
    if (!script || !window.JSON || !window.fetch) { return; }
    var key = script.getAttribute("data-key") || "";
    var branch = script.getAttribute("data-branch") || "";
    var base = script.src.replace(/\/t\/cf\.js.*$/, "");
    if (!key) { return; }
    var state = { sid: "", number: "", beat: 0 };

    var store = function (name, value) {
      try {
        if (value === undefined) { return window.localStorage.getItem(name) || ""; }
        window.localStorage.setItem(name, value);
      } catch (e) { /* storage blocked */ }
      return value || "";
    };
    var randomId = function () {
      try {
        var a = new Uint8Array(16);
        window.crypto.getRandomValues(a);
        return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      } catch (e) { return String(Date.now()) + String(Math.random()).slice(2); }
    };
    var cid = store("cf_cid") || store("cf_cid", randomId());
    var param = function (name) {
      try { return new URLSearchParams(window.location.search).get(name) || ""; } catch (e) { return ""; }
    };
    var post = function (path, body, done) {
      try {
        body.k = key;
        body.cid = cid;
        fetch(base + path, {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          keepalive: true,
          headers: { "Content-Type": "text/plain" },
          body: JSON.stringify(body)
        }).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) { try { if (data && done) { done(data); } } catch (e) { /* ignore */ } })
          .catch(function () { /* network errors are ignored */ });
      } catch (e) { /* never throw */ }
    };
    var swap = function () {
      try {
        if (!state.number) { return; }
        var nodes = document.querySelectorAll("[data-cf-phone]");
        for (var i = 0; i < nodes.length; i++) {
          var el = nodes[i];
          el.textContent = state.display || state.number;
          if (el.tagName === "A") { el.setAttribute("href", "tel:" + state.number); }
          var links = el.querySelectorAll ? el.querySelectorAll("a[href^='tel:']") : [];
          for (var j = 0; j < links.length; j++) { links[j].setAttribute("href", "tel:" + state.number); }
        }
      } catch (e) { /* ignore */ }
    };
    var touch = function () {
      post("/t/session", {
        url: String(window.location.href).slice(0, 500),
        ref: String(document.referrer || "").slice(0, 500),
        utm_source: param("utm_source"), utm_medium: param("utm_medium"), utm_campaign: param("utm_campaign"),
        utm_content: param("utm_content"), utm_term: param("utm_term"),
        gclid: param("gclid"), yclid: param("yclid"), branch: branch
      }, function (data) {
        state.sid = data.sid || "";
        state.number = data.number || "";
        state.display = data.display || "";
        swap();
      });
    };
    var activity = function () {
      var now = Date.now();
      if (now - state.beat > 60000) { state.beat = now; touch(); }
    };
    var onSubmit = function (event) {
      try {
        var form = event.target;
        if (!form || !form.hasAttribute || !form.hasAttribute("data-cf-lead")) { return; }
        var get = function (names) {
          for (var i = 0; i < names.length; i++) {
            var input = form.querySelector("[name='" + names[i] + "']");
            if (input && input.value) { return String(input.value).slice(0, 5000); }
          }
          return "";
        };
        post("/t/lead", {
          sid: state.sid,
          name: get(["name", "fio", "full_name"]),
          phone: get(["phone", "tel", "telephone"]),
          email: get(["email", "e-mail"]),
          message: get(["message", "comment", "text"]),
          url: String(window.location.href).slice(0, 500),
          branch: branch
        }, function () { try { form.setAttribute("data-cf-sent", "1"); } catch (e) { /* ignore */ } });
      } catch (e) { /* never throw */ }
    };
    var start = function () {
      state.beat = Date.now();
      touch();
      document.addEventListener("submit", onSubmit, true);
      ["click", "scroll", "keydown", "touchstart"].forEach(function (name) {
        window.addEventListener(name, activity, { passive: true });
      });
    };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
    } else {
      start();
    }
  } catch (e) { /* never throw on the host page */ }
})();
