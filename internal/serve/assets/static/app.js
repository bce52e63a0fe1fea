// prosim serve: live updates by server-sent events, and the stop and resume buttons.
// Text only ever goes in through textContent: nothing from a run is parsed as HTML.
"use strict";
(function () {
  function cells(tbody, rows) {
    tbody.replaceChildren();
    (rows || []).forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (v) { var td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
      tbody.appendChild(tr);
    });
  }
  function show(s) {
    document.querySelectorAll("#live [data-k]").forEach(function (el) {
      var v = s[el.dataset.k];
      el.textContent = v === undefined || v === null ? "" : String(v);
    });
    var st = document.getElementById("status");
    st.className = "status " + s.Status;
    var bar = document.getElementById("bar");
    bar.max = Math.max(s.Expected, 1);
    bar.value = s.Done;
    document.getElementById("stop").hidden = !s.CanStop;
    document.getElementById("resume").hidden = !s.CanResume;
    document.getElementById("results-link").hidden = !s.HasResults;
    cells(document.querySelector("#reasons tbody"), s.Reasons);
    var est = document.getElementById("estimates");
    est.hidden = !(s.Estimates && s.Estimates.length);
    var head = est.querySelector("thead tr");
    head.replaceChildren();
    (s.EstimateHead || []).forEach(function (v) { var th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
    cells(est.querySelector("tbody"), s.Estimates);
  }
  var live = document.getElementById("live");
  if (live) {
    var es = new EventSource(live.dataset.events);
    es.addEventListener("snapshot", function (e) { show(JSON.parse(e.data)); });
    document.querySelectorAll("button[data-action]").forEach(function (b) {
      b.addEventListener("click", function () {
        var msg = document.getElementById("action-msg");
        b.disabled = true;
        fetch(b.dataset.action, { method: "POST", headers: { "X-Prosim-Action": "1" }, credentials: "same-origin" })
          .then(function (r) { return r.text().then(function (t) { msg.textContent = r.ok ? b.textContent + " requested" : t; }); })
          .catch(function (err) { msg.textContent = String(err); })
          .finally(function () { b.disabled = false; });
      });
    });
  }
})();
