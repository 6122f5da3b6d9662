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

  // Copy buttons (hidden without JavaScript): copy a code block's text (never its line numbers) or a field's value.
  function copyText(target) {
    if (target.tagName === "INPUT") { return target.value; }
    var code = target.querySelector("td.code pre") || target.querySelector("pre");
    return code ? code.textContent : null;
  }
  function enhanceCopy(root) {
    root.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      if (!navigator.clipboard || button.dataset.ready) { return; }
      button.dataset.ready = "true";
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        var text = target && copyText(target);
        var done = button.parentNode.querySelector(".copy-done");
        if (text === null || text === undefined) { return; }
        navigator.clipboard.writeText(text).then(function () {
          if (done) { done.textContent = "Copied."; }
        }, function () {
          if (done) { done.textContent = "Copying is not allowed here; select the text instead."; }
        });
      });
    });
  }

  // File tabs: a list of links to sections becomes a tab list showing one section at a time (arrow keys move).
  function enhanceTabs(root) {
    root.querySelectorAll("ul[data-tabs]").forEach(function (list) {
      if (list.dataset.ready) { return; }
      var links = Array.prototype.slice.call(list.querySelectorAll("a[href^='#']"));
      var panels = links.map(function (a) { return document.getElementById(a.getAttribute("href").slice(1)); });
      if (links.length < 2 || panels.indexOf(null) >= 0) { return; }
      list.dataset.ready = "true";
      list.setAttribute("role", "tablist");
      function select(index, focus) {
        links.forEach(function (a, i) {
          a.setAttribute("aria-selected", i === index ? "true" : "false");
          a.tabIndex = i === index ? 0 : -1;
          panels[i].hidden = i !== index;
        });
        if (focus) { links[index].focus(); }
      }
      links.forEach(function (a, i) {
        a.parentNode.setAttribute("role", "presentation");
        a.setAttribute("role", "tab");
        a.setAttribute("aria-controls", panels[i].id);
        panels[i].setAttribute("role", "tabpanel");
        panels[i].setAttribute("aria-labelledby", a.id);
        a.addEventListener("click", function (event) { event.preventDefault(); select(i, false); });
        a.addEventListener("keydown", function (event) {
          var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: links.length - 1 }[event.key];
          if (next === undefined) { return; }
          event.preventDefault();
          select((next + links.length) % links.length, true);
        });
      });
      list.classList.add("tabs");
      select(0, false);
    });
  }

  // A role <select> with data-autosubmit saves as soon as it changes (its Save button is for pages without JS).
  function enhanceAutosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.ready) { return; }
      select.dataset.ready = "true";
      var form = select.form;
      var button = form && form.querySelector("button[type=submit]");
      if (button) { button.hidden = true; }
      select.addEventListener("change", function () { if (form) { form.requestSubmit(); } });
    });
  }

  function enhance(root) {
    enhanceCopy(root);
    enhanceTabs(root);
    enhanceAutosubmit(root);
  }
  enhance(document);
  // Content swapped in later (a finished job's result, an HTMX refresh) gets the same enhancements.
  document.addEventListener("autodevops:loaded", function (event) { enhance(event.target); });
  document.addEventListener("htmx:afterSwap", function () { enhance(document); });
  // The "reload to update" hint is for pages without JavaScript.
  document.documentElement.classList.add("js");
})();
