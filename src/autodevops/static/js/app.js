// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Destructive buttons ask first (data-confirm holds the question; the text is set by the server, escaped).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Copy buttons (hidden without JavaScript): copy a code block's text, never its line numbers.
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var block = document.getElementById(button.getAttribute("data-copy"));
      var code = block && (block.querySelector("td.code pre") || block.querySelector("pre"));
      var done = button.parentNode.querySelector(".copy-done");
      if (!code) { return; }
      navigator.clipboard.writeText(code.textContent).then(function () {
        if (done) { done.textContent = "Copied."; }
      }, function () {
        if (done) { done.textContent = "Copying is not allowed here; select the text instead."; }
      });
    });
  });
  // The "reload to update" hint is for pages without JavaScript.
  document.documentElement.classList.add("js");
})();
