// The page of `zgc-space edit`: an HTTP model with anywidget's interface, talking to the local
// server that served this page (same origin, 127.0.0.1); commands are sent one at a time.
{
  const boot = JSON.parse(document.getElementById("zgc-boot").textContent);
  const values = { geo: boot.geo, view: boot.view, height: "100vh" };
  const listeners = new Map();
  let queue = Promise.resolve();
  const model = {
    get: (key) => values[key],
    on(event, cb) { if (!listeners.has(event)) listeners.set(event, []); listeners.get(event).push(cb); },
    off(event, cb) { listeners.set(event, (listeners.get(event) || []).filter((f) => f !== cb)); },
    send(command) {
      queue = queue.then(async () => {
        document.body.classList.add("zgc-busy");
        try {
          const response = await fetch("api/command", {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-ZGC-Token": boot.token },
            body: JSON.stringify(command),
          });
          const view = await response.json();
          values.view = view;
          for (const cb of listeners.get("change:view") || []) cb();
        } catch (err) {
          values.view = { ...values.view, confirm: null,
            notice: { level: "error", text: `the editor's server did not answer (${err}); is zgc-space edit still running?` } };
          for (const cb of listeners.get("change:view") || []) cb();
        } finally {
          document.body.classList.remove("zgc-busy");
          document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
        }
      });
      return queue;
    },
  };
  const app = document.getElementById("zgc-app");
  render({ model, el: app });
  window.zgcEditor = app.zgcEditor;
}
