// The live monitor: long-poll the console's feed and replace the two parts of the page.
"use strict";
(function () {
  const root = document.getElementById("monitor");
  if (!root) return;
  const summary = document.getElementById("summary");
  const queue = document.getElementById("queue");
  const status = document.getElementById("live-status");
  const label = status.querySelector(".text");
  let cursor = root.dataset.cursor || "0";
  const department = root.dataset.department || "";
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function online(ok) {
    status.classList.toggle("offline", !ok);
    label.textContent = ok ? label.dataset.live : label.dataset.offline;
  }

  function busy() {
    // Never replace a form someone is filling in.
    const active = document.activeElement;
    return active && queue.contains(active) && (active.tagName === "INPUT" || active.tagName === "SELECT");
  }

  async function poll() {
    for (;;) {
      const url = "/admin/monitor/live?wait=25&after=" + encodeURIComponent(cursor) +
        "&department=" + encodeURIComponent(department);
      try {
        const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (answer.status === 401) {
          window.location.assign("/admin/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
          return;
        }
        if (!answer.ok) throw new Error("HTTP " + answer.status);
        const data = await answer.json();
        cursor = String(data.cursor);
        summary.innerHTML = data.summary;
        if (!busy()) queue.innerHTML = data.queue;
        root.dataset.cursor = cursor;
        online(true);
      } catch (error) {
        online(false);
        await sleep(2000);
      }
    }
  }
  poll();
})();
