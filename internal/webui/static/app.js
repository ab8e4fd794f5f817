// Keeps the SLA countdowns current; the server already rendered their text,
// so the page works without this script.
(function () {
  "use strict";
  function fmt(ms) {
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    if (m > 0) return m + "m " + (s % 60) + "s";
    return (s % 60) + "s";
  }
  function tick() {
    var els = document.querySelectorAll("time[data-countdown]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) continue;
      var left = due - Date.now();
      el.textContent = left >= 0 ? "due in " + fmt(left) : "overdue by " + fmt(-left);
      if (el.parentNode && el.parentNode.classList) el.parentNode.classList.toggle("overdue", left < 0);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
