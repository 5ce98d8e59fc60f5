/* OneWindow portals: progressive enhancement only. Every form works without this file.
   A page with an error summary gives it the focus.
   An input with data-lookup="/path" and a list="id" gets that datalist filled, as the
   person types, from the path's answer (<option>s), asked with ?q=<what was typed>. */
(function () {
  "use strict";
  function lookUp(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === asked) { return; }
        asked = q;
        fetch(input.dataset.lookup + "?q=" + encodeURIComponent(q), {
          headers: { "X-Requested-With": "fetch" }, credentials: "same-origin"
        }).then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { if (q === asked) { list.innerHTML = html; } });
      }, 200);
    });
  }
  document.querySelectorAll("input[data-lookup][list]").forEach(lookUp);
  // A page that comes back with errors: its summary takes the focus, so that a screen reader
  // reads it first (the GOV.UK pattern); each of its links moves the focus to its field.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
