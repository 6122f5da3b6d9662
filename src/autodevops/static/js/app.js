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
  // The "reload to update" hint is for pages without JavaScript.
  document.documentElement.classList.add("js");
})();
