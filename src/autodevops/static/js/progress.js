// Live job progress: follows the job's Server-Sent Events and updates the page in place (no reload).
// The page is complete without this script; it only keeps it current.
(function () {
  "use strict";
  var root = document.getElementById("progress");
  if (!root || !window.EventSource || root.dataset.finished === "true") {
    return;
  }
  var stageMap = JSON.parse(root.dataset.stageMap || "{}");
  var stages = (root.dataset.stages || "").split(" ").filter(Boolean);
  var steps = Array.prototype.slice.call(root.querySelectorAll("[data-step]"));
  var bar = document.getElementById("progress-bar");
  var statusLine = document.getElementById("progress-status");
  var errorLine = document.getElementById("progress-error");
  var log = document.getElementById("progress-log");
  var next = document.getElementById("progress-next");
  var badge = document.getElementById("live-status");  // the page title's status, when it has one

  function setBadge(text, kind) {
    if (!badge) { return; }
    badge.textContent = text;
    badge.className = "status status-" + kind;
  }
  root.classList.add("live");

  function markStep(name, failed) {
    var index = steps.findIndex(function (li) { return li.dataset.step === name; });
    if (index < 0) { return; }
    steps.forEach(function (li, i) {
      li.classList.remove("current", "failed");
      li.classList.toggle("complete", i < index || (name === "done" && i === index));
      if (i === index && name !== "done") { li.classList.add(failed ? "failed" : "current"); }
    });
  }

  function addLog(stage, data) {
    var item = document.createElement("li");
    var time = document.createElement("time");
    // The server's time of the event (replayed events keep theirs); the moment received only if it has none.
    var at = data.at ? new Date(data.at) : new Date();
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString();
    item.appendChild(time);
    var text = " " + stage.replace("_", " ");
    if (data.attempt) { text += " · attempt " + data.attempt + (data.max_attempts ? " of " + data.max_attempts : ""); }
    if (typeof data.percent === "number") { text += " · " + data.percent + "%"; }
    if (data.message) { text += " · " + data.message; }
    if (data.error) { text += " · " + data.error; }
    if (stage === "retrying" && data.delay_s !== undefined) { text += " · retrying in " + data.delay_s + " s"; }
    item.appendChild(document.createTextNode(text));  // text nodes: event data is never parsed as HTML
    item.className = "log-" + stage;
    log.appendChild(item);
  }

  function loadResult() {
    var target = document.getElementById("result");
    if (!root.dataset.result || !target) { return; }
    fetch(root.dataset.result, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        target.innerHTML = html;
        target.dispatchEvent(new CustomEvent("autodevops:loaded", { bubbles: true }));  // copy buttons, tabs
      });
  }

  var source = new EventSource(root.dataset.events);
  function handle(stage, event) {
    var data = {};
    try { data = JSON.parse(event.data); } catch (ignored) { data = {}; }
    addLog(stage, data);
    if (typeof data.percent === "number") {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
    }
    root.dataset.stage = stage;
    if (stage === "retrying") {
      errorLine.hidden = false;
      errorLine.textContent = "Attempt " + (data.attempt || "?") + " failed: " + (data.error || "unknown error") + ". Retrying.";
      statusLine.textContent = "Retrying";
      return;
    }
    if (stage === "queued" && data.requeued) {
      // A dead letter given a new run: what came before is history; follow the new run.
      errorLine.hidden = true;
      bar.value = 0;
      setBadge("queued", "pending");
      markStep("queued", false);
    }
    if (stage === "failed") {
      // The stream replays a job's whole history, so a failure may be followed by a requeue: keep
      // listening until the server says the job's durable state is final (a non-replayed event).
      if (data.replayed === false) { source.close(); }
      markStep(stageMap[root.dataset.lastStage] || "queued", true);
      errorLine.hidden = false;
      errorLine.textContent = "Failed: " + (data.error || "the job used up its attempts");
      statusLine.textContent = "Failed";
      setBadge(root.dataset.failedLabel || "failed", "failed");
      return;
    }
    var step = stageMap[stage];
    if (step) {
      root.dataset.lastStage = stage;
      markStep(step, false);
      if (stage !== "queued" && stage !== "done") { setBadge("running", "running"); }
    }
    statusLine.textContent = stage === "done" ? "Done" : "Now: " + stage.replace("_", " ");
    if (stage === "done") {
      source.close();
      bar.value = 100;
      errorLine.hidden = true;
      if (next) { next.hidden = false; }
      var nextStep = document.getElementById("next-step");  // the page's next action, e.g. "Generate pipeline"
      if (nextStep && root.dataset.result) { nextStep.hidden = false; }
      setBadge(root.dataset.doneLabel || "succeeded", "succeeded");
      loadResult();
    }
  }
  source.onerror = function () {
    // The browser retries dropped connections by itself; a refused one (signed out, gone) closes for good.
    if (source.readyState === EventSource.CLOSED) {
      statusLine.textContent = "Live updates stopped. Reload the page to see the current state.";
    }
  };
  stages.forEach(function (stage) {
    source.addEventListener(stage, function (event) { handle(stage, event); });
  });
})();
