// The assistant widget: after htmx swaps in the conversation, show its newest turn and put the
// cursor back in the message field (htmx keeps the scroll position at the oldest turn).
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var panel = event.detail.target;
    if (!panel || panel.id !== "assistant-panel") {
      return;
    }
    var turns = panel.querySelector(".chat-turns");
    if (turns) {
      turns.scrollTop = turns.scrollHeight;
    }
    var field = panel.querySelector(".chat-form input[name=text]");
    if (field && panel.closest("details[open]")) {
      field.focus({ preventScroll: true });
    }
  });
})();
