// The campaign page: while emails go out, ask for the counts every two seconds and update the
// bar and the numbers (no page reload; the text next to the bar is announced politely).
(function () {
  "use strict";
  var section = document.getElementById("orcid-campaign-progress");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-progress-url");
  var bar = document.getElementById("orcid-progress-bar");
  var text = document.getElementById("orcid-progress-text");
  var template = text ? text.getAttribute("data-template") : "";
  var state = document.getElementById("orcid-campaign-state");

  function show(data) {
    if (bar) { bar.max = data.total; bar.value = data.processed; }
    if (text && template) {
      text.textContent = template.replace("{done}", String(data.processed))
        .replace("{total}", String(data.total));
    }
    Object.keys(data.counts).forEach(function (status) {
      var cell = section.querySelector('[data-status="' + status + '"]');
      if (cell) { cell.textContent = String(data.counts[status]); }
    });
    // once sending stops, the line under the bar no longer says "Sending…" (what a reload shows)
    if (!data.running && state && data.status === "active" && !data.finished) {
      state.textContent = state.getAttribute("data-idle") || state.textContent;
    }
    return data.running;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && (show(data) || section.getAttribute("data-running") === "1")) {
          section.setAttribute("data-running", data.running ? "1" : "0");
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { /* the page still shows the counts it was served with */ });
  }
  if (section.getAttribute("data-running") === "1") { window.setTimeout(poll, 1000); }
}());
