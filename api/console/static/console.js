// The console's live updates: when the event stream says a message or report arrived, fetch
// this page again and swap in its live regions (elements with data-live and an id). Nothing
// else of the page changes, so a half-typed form or a filter stays as it is.
(() => {
  "use strict";
  const DEBOUNCE_MS = 200;
  let timer = null;
  let busy = false;

  const refresh = async () => {
    timer = null;
    if (busy) {
      schedule();
      return;
    }
    busy = true;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok || response.redirected) {
        return;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const region of document.querySelectorAll("[data-live][id]")) {
        const fresh = page.getElementById(region.id);
        if (fresh) {
          region.replaceWith(document.adoptNode(fresh));
        }
      }
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      document.body.dataset.refreshedAt = String(Date.now());
    } catch (error) {
      // The API is restarting or the network dropped: the next event tries again.
    } finally {
      busy = false;
    }
  };

  function schedule() {
    if (timer === null) {
      timer = window.setTimeout(refresh, DEBOUNCE_MS);
    }
  }

  const start = () => {
    if (!document.querySelector("[data-live]") || !("EventSource" in window)) {
      return;
    }
    const events = new EventSource("/console/events");
    events.addEventListener("message", schedule);
    events.addEventListener("report", schedule);
    events.addEventListener("open", () => {
      document.body.dataset.live = "on";
    });
    window.addEventListener("pagehide", () => events.close());
  };

  start();
})();
