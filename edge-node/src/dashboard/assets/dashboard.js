// The dashboard's only script: reloads the live part of the page (server-rendered HTML from
// /dashboard/live) every two seconds while the page is visible; back to the login form when
// the session has ended.
(() => {
  const live = document.getElementById("live");
  const updated = document.getElementById("updated");
  if (!live || !updated) return;
  let busy = false;
  async function refresh() {
    if (document.hidden || busy) return;
    busy = true;
    try {
      const response = await fetch("/dashboard/live", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) {
        location.reload();
        return;
      }
      if (!response.ok) throw new Error(`the node answered ${response.status}`);
      live.innerHTML = await response.text();
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
      updated.classList.remove("stale");
    } catch (error) {
      updated.textContent = `not updated: ${error.message}; trying again`;
      updated.classList.add("stale");
    } finally {
      busy = false;
    }
  }
  setInterval(refresh, 2000);
  document.addEventListener("visibilitychange", refresh);
})();
