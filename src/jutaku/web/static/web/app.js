// Jutaku staff UI: the idle-timeout warning, live job progress, confirmations. No inline script (CSP).
"use strict";
(function () {
  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- Idle-timeout warning (AUTH-07): shown before the server would end the session. ---
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var warn = parseInt(body.getAttribute("data-warning-seconds") || "120", 10);
  if (idle > 0) {
    var banner = document.getElementById("idle-warning");
    var left = document.getElementById("idle-left");
    var form = document.getElementById("keepalive-form");
    var deadline = Date.now() + idle * 1000;
    setInterval(function () {
      var remaining = Math.round((deadline - Date.now()) / 1000);
      if (remaining <= 0) { window.location.href = "/login/?next=" + encodeURIComponent(window.location.pathname); return; }
      if (remaining <= warn) { banner.hidden = false; left.textContent = String(remaining); }
    }, 1000);
    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        fetch(form.action, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken(form) } })
          .then(function (r) { if (!r.ok) { throw new Error("expired"); } return r.json(); })
          .then(function (data) { deadline = Date.now() + data.idle_seconds * 1000; banner.hidden = true; })
          .catch(function () { window.location.href = "/login/"; });
      });
    }
  }

  // --- Confirmation before irreversible actions: <form data-confirm="..."> ---
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });

  // --- Live progress of a job started from the browser: <div data-progress-url="..."> ---
  var box = document.querySelector("[data-progress-url]");
  if (box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");
    var state = box.querySelector(".progress-state");
    var hint = box.querySelector(".progress-hint");
    var badge = document.querySelector("[data-task-state]");
    var poll = function () {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
        if (d.total) { bar.max = d.total; bar.value = d.done; } else { bar.removeAttribute("value"); }
        text.textContent = d.text;
        state.textContent = d.state_label;
        // One state on the page: the badge says what the progress box says (issue 14 item 12).
        if (badge) { badge.textContent = d.state_label; badge.className = "badge " + d.badge; }
        if (hint) { hint.textContent = d.hint || ""; hint.hidden = !d.hint; }
        if (d.finished) { window.location.reload(); } else { setTimeout(poll, 1500); }
      }).catch(function () { setTimeout(poll, 4000); });
    };
    setTimeout(poll, 800);
  }
})();
