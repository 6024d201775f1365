// Keyboard shortcuts of the registrar desk. An element with data-shortcut="x" is clicked (a
// link or button) or focused (a field) when x is pressed outside a text field; "f" focuses the
// board's first free time; "b" shows the board booking for the caller on the line (the caller
// panel's first match). The shortcuts are listed on the page itself.
(function () {
  "use strict";
  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (key === "f") {
      var free = document.querySelector("#board a.dk-free");
      if (free) { event.preventDefault(); free.focus(); }
      return;
    }
    if (key === "b") {
      var caller = document.querySelector("#caller-panel [data-patient]");
      if (caller) {
        event.preventDefault();
        var url = new URL(window.location.href);
        url.searchParams.set("patient", caller.getAttribute("data-patient"));
        window.location.assign(url.toString());
      }
      return;
    }
    var target = document.querySelector('[data-shortcut="' + (key === '"' ? "" : key) + '"]');
    if (!target) { return; }
    event.preventDefault();
    var tag = target.tagName.toLowerCase();
    if (tag === "a" || tag === "button") {
      target.click();
    } else {
      target.focus();
      if (target.select && target.type === "search") { target.select(); }
    }
  });
})();
