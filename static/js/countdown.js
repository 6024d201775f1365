// Counts a hold's remaining time down as mm:ss; when it runs out, says so and disables the
// confirm button (the server refuses an expired hold anyway: this only saves a click).
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function start(el) {
    var left = parseInt(el.getAttribute("data-countdown"), 10);
    if (isNaN(left)) { return; }
    var submit = document.querySelector("[data-countdown-submit]");
    var line = el.closest(".countdown-line");
    if (line) { line.hidden = false; }
    function tick() {
      if (left <= 0) {
        el.textContent = "0:00";
        var note = document.createElement("span");
        note.className = "countdown-expired";
        note.textContent = " " + el.getAttribute("data-expired");
        el.parentNode.appendChild(note);
        if (submit) { submit.disabled = true; }
        return;
      }
      el.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var items = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < items.length; i += 1) { start(items[i]); }
  });
})();
