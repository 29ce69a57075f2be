// zgc_space proposal editor: the map and the panel. Leaflet is the local `L` defined above this
// file (inlined by zgc_space.editor._assets); nothing is fetched from the network.
//
// `model` is anywidget's model in a notebook, or the page's HTTP model (page.js): get("geo"),
// get("view"), on("change:view", cb) and send(command). Python does every edit and every
// evaluation (zgc_space.editor.EditSession.handle); this file only draws and sends clicks.

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) listen(el, k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A redraw removes the focused input, and Chromium then fires its "change": ignore events of
// elements no longer on the page, so one edit sends one command.
function listen(el, event, fn) {
  el.addEventListener(event, (e) => { if (el.isConnected) fn(e); });
}

function render({ model, el }) {
  const geo = model.get("geo");
  const states = geo.states;
  const root = h("div", { class: "zgc-editor" });
  const mapDiv = h("div", { class: "zgc-map" });
  const panel = h("div", { class: "zgc-panel" });
  root.append(mapDiv, panel);
  el.append(root);
  const height = (model.get("height") || "600px");
  root.style.height = height;

  // The Leaflet map is made once its container is on the page with a size. In JupyterLab render()
  // gets an output element that is attached later; a map made before that measures 0 x 0, and
  // Leaflet keeps that size (its invalidateSize() does nothing until the map has a view), so the
  // map would stay empty.
  let map = null;
  const blockLayers = new Map();
  const candidateLayers = new Map();
  let selectMode = false;
  let saveName = null; // kept across redraws once typed, until Python offers another name
  let offered = null;

  function tip(props, what) {
    const box = h("div", {}, h("b", {}, props.id), " ", props.name || "", h("br"),
      `${props.subpark || ""} · ${props.area_ha} ha`, h("br"), what);
    return box;
  }

  function stateText(key) {
    const s = states[key];
    return s ? `${s.zh} ${s.en}` : key;
  }

  function startMap() {
    if (map || !mapDiv.isConnected || !mapDiv.clientWidth || !mapDiv.clientHeight) return;
    map = L.map(mapDiv, { zoomSnap: 0.25, attributionControl: false, preferCanvas: false });
    const blocks = L.geoJSON(geo.blocks, {
      style: () => ({ color: "#4d4d4d", weight: 1, fillOpacity: 0.7, fillColor: states.keep.colour }),
      onEachFeature: (f, layer) => {
        blockLayers.set(f.properties.id, layer);
        layer.bindTooltip(() => tip(f.properties, stateText(currentView().blocks[f.properties.id] || "keep")),
          { sticky: true });
        layer.on("click", (e) => {
          const shift = e.originalEvent && e.originalEvent.shiftKey;
          model.send({ op: selectMode || shift ? "select" : "click_block", id: f.properties.id });
        });
      },
    });
    const candidates = L.geoJSON(geo.candidates, {
      style: () => ({ color: "#1a9850", weight: 2, dashArray: "4 3", fillOpacity: 0.15, fillColor: "#ffffff" }),
      onEachFeature: (f, layer) => {
        candidateLayers.set(f.properties.id, layer);
        layer.bindTooltip(() => tip(f.properties,
          stateText(currentView().admitted.includes(f.properties.id) ? "admit" : "candidate")), { sticky: true });
        layer.on("click", () => model.send({ op: "click_candidate", id: f.properties.id }));
      },
    });
    const all = L.featureGroup([blocks, candidates]);
    if (all.getLayers().length) map.fitBounds(all.getBounds(), { padding: [10, 10] });
    all.addTo(map); // the map has its view: the paths are drawn now
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => h("div", { class: "zgc-editor-legend" },
      ...["keep", "release", "renew", "merge", "rezone", "admit", "candidate"].map((k) =>
        h("div", {}, h("span", { class: "zgc-swatch", style: `background:${states[k].colour}` }), stateText(k))));
    legend.addTo(map);
    restyle(currentView());
    root.dataset.map = "ready"; // for tests: the blocks are drawn and pointOf() answers
  }

  // Paths exist once the map is made: tag them for CSS and for tests.
  function tag() {
    for (const [id, layer] of [...blockLayers, ...candidateLayers]) {
      const path = layer.getElement && layer.getElement();
      if (path && !path.hasAttribute("data-id")) {
        path.setAttribute("data-id", id);
        path.classList.add(candidateLayers.has(id) ? "zgc-candidate" : "zgc-block");
      }
    }
  }
  // The container gets its size when it is attached (or shown): make the map then, resize it after.
  const resized = () => { if (map) map.invalidateSize(); else startMap(); };
  const observer = typeof ResizeObserver !== "undefined" ? new ResizeObserver(resized) : null;
  if (observer) observer.observe(mapDiv);
  setTimeout(startMap, 0);

  // Where to click a block or candidate (a point inside it), for tests and keyboard users.
  el.zgcEditor = {
    get map() { return map; },
    pointOf(id) {
      const layer = blockLayers.get(id) || candidateLayers.get(id);
      if (!layer || !map) return null;
      const f = layer.feature.properties.point;
      const p = map.latLngToContainerPoint(L.latLng(f[0], f[1]));
      const r = mapDiv.getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    },
  };

  function currentView() { return model.get("view"); }

  function restyle(view) {
    tag();
    const selected = new Set(view.selection);
    for (const [id, layer] of blockLayers) {
      const st = view.blocks[id] || "keep";
      const sel = selected.has(id);
      layer.setStyle({
        fillColor: (states[st] || states.keep).colour,
        color: sel ? "#000000" : "#4d4d4d", weight: sel ? 3 : 1, dashArray: sel ? "5 3" : null,
      });
      const path = layer.getElement && layer.getElement();
      if (path) path.setAttribute("data-state", st);
    }
    const admitted = new Set(view.admitted);
    for (const [id, layer] of candidateLayers) {
      const on = admitted.has(id);
      layer.setStyle(on
        ? { fillColor: states.admit.colour, fillOpacity: 0.7, color: "#08519c", dashArray: null }
        : { fillColor: "#ffffff", fillOpacity: 0.15, color: "#1a9850", dashArray: "4 3" });
      const path = layer.getElement && layer.getElement();
      if (path) path.setAttribute("data-state", on ? "admit" : "candidate");
    }
  }

  function metricRow(m) {
    const cls = m.trend ? `zgc-${m.trend}` : "";
    return h("tr", { "data-metric": m.id },
      h("th", {}, m.zh, h("small", {}, ` ${m.en}`)),
      h("td", { class: "zgc-value", "data-value": m.value === null ? "" : m.value }, m.text, m.unit ? ` ${m.unit}` : ""),
      h("td", { class: `zgc-change ${cls}` }, m.change_text));
  }

  function ruleInputs(rule, onChange) {
    const kind = h("select", { class: "zgc-rule-kind" },
      h("option", { value: "far_step", selected: rule.kind === "far_step" }, "FAR + step 提高"),
      h("option", { value: "far_target", selected: rule.kind === "far_target" }, "FAR → target 目标"));
    const value = h("input", { class: "zgc-rule-value", type: "number", step: "0.1", value: rule.value });
    const fire = () => onChange(kind.value, value.value === "" ? null : Number(value.value));
    listen(kind, "change", fire);
    listen(value, "change", fire);
    return [kind, value];
  }

  function operation(op) {
    const reason = h("input", { class: "zgc-reason", type: "text", value: op.reason, placeholder: "理由 reason" });
    listen(reason, "change", () => model.send({ op: "set_reason", kind: op.kind, index: op.index, reason: reason.value }));
    const extra = [];
    if (op.kind === "renew") {
      extra.push(...ruleInputs(op.rule, (kind, value) =>
        model.send({ op: "set_renewal", index: op.index, kind, value })));
    }
    if (op.kind === "merge") {
      extra.push(h("button", { class: "zgc-unmerge", onclick: () => model.send({ op: "unmerge", index: op.index }) },
        "不合并 unmerge"));
    }
    return h("li", { "data-kind": op.kind, "data-index": op.index },
      h("div", {}, h("b", {}, op.name), " ", op.what), h("div", { class: "zgc-op-row" }, ...extra, reason));
  }

  function draw() {
    const view = currentView();
    restyle(view);
    const p = view.panel;
    const score = p.metrics.find((m) => m.id === "score");
    const rank = p.metrics.find((m) => m.id === "rank");
    const meta = view.proposal;
    const idInput = h("input", { class: "zgc-meta-id", type: "text", value: meta.id });
    const titleInput = h("input", { class: "zgc-meta-title", type: "text", value: meta.title });
    listen(idInput, "change", () => model.send({ op: "set_meta", fields: { id: idInput.value } }));
    listen(titleInput, "change", () => model.send({ op: "set_meta", fields: { title: titleInput.value } }));
    const modeBox = h("input", { type: "checkbox", class: "zgc-select-mode", checked: selectMode });
    listen(modeBox, "change", () => { selectMode = modeBox.checked; });
    const children = [
      h("div", { class: "zgc-meta" }, h("label", {}, "方案 id ", idInput), h("label", {}, "标题 title ", titleInput)),
      h("div", { class: "zgc-toolbar" },
        h("button", { class: "zgc-undo", disabled: !view.can_undo, onclick: () => model.send({ op: "undo" }) }, "↶ 撤销 undo"),
        h("button", { class: "zgc-redo", disabled: !view.can_redo, onclick: () => model.send({ op: "redo" }) }, "↷ 重做 redo"),
        h("label", { title: "click blocks to select them for a merge (or shift-click)" }, modeBox, " 选择 select"),
        h("button", { class: "zgc-merge", disabled: view.selection.length < 2,
          onclick: () => model.send({ op: "merge" }) }, `合并 merge (${view.selection.length})`),
        h("button", { class: "zgc-clear", disabled: !view.selection.length,
          onclick: () => model.send({ op: "clear_selection" }) }, "清除 clear")),
      h("div", { class: "zgc-rule" }, "新更新改造 next renewals: ",
        ...ruleInputs(view.rule, (kind, value) => model.send({ op: "set_rule", kind, value }))),
      h("div", { class: `zgc-notice zgc-${view.notice.level}`, role: "status", lang: "zh" }, view.notice.text,
        view.notice.en ? h("small", { class: "zgc-en", lang: "en" }, view.notice.en) : null),
      p.error ? h("div", { class: "zgc-notice zgc-error zgc-eval-error", title: p.error_en || "" }, p.error) : null,
      h("div", { class: "zgc-headline" },
        h("div", { class: "zgc-score", "data-value": p.score === null ? "" : p.score },
          h("small", {}, "集约度分值 score"), h("b", {}, score ? score.text : "–"),
          h("span", {}, score ? ` (${score.change_text})` : "")),
        h("div", { class: "zgc-rank", "data-value": p.rank === null ? "" : p.rank },
          h("small", {}, "全国排名 national rank"), h("b", {}, p.rank === null ? "–" : `${p.rank} / ${p.rank_of}`),
          h("span", {}, rank ? ` (${rank.change_text})` : ""),
          h("div", { class: "zgc-margin", title: p.margin.text_en }, p.margin.text))),
      h("table", { class: "zgc-metrics" },
        h("tr", {}, h("th", {}, "指标 indicator"), h("th", {}, "方案 proposal"), h("th", {}, "变化 change")),
        ...p.metrics.filter((m) => m.id !== "score" && m.id !== "rank").map(metricRow)),
      h("h4", {}, `违反约束 violations (${p.violations.length})`),
      h("ul", { class: "zgc-violations" },
        ...p.violations.map((v) => h("li", { "data-rule": v.rule, title: v.message_en }, v.message))),
      p.notes.length ? h("ul", { class: "zgc-notes" }, ...p.notes.map((n, i) => h("li", { title: p.notes_en[i] }, n)))
        : null,
      h("h4", {}, `操作 operations (${view.operations.length})`),
      h("ol", { class: "zgc-ops" }, ...view.operations.map(operation)),
      h("div", { class: "zgc-latency" }, `计算用时 ${p.latency_ms} ms`),
    ];
    if (view.save_name !== offered) { offered = view.save_name; saveName = null; }
    if (view.can_save) {
      const name = h("input", { class: "zgc-save-name", type: "text", value: saveName || view.save_name });
      listen(name, "input", () => { saveName = name.value; });
      children.push(h("div", { class: "zgc-save" }, name,
        h("button", { class: "zgc-save-button", onclick: () => model.send({ op: "save", name: name.value }) },
          "保存 save"), h("small", {}, " 保存到方案文件夹")));
    }
    panel.replaceChildren(...children.filter((c) => c !== null));
    if (view.confirm) {
      const retry = view.confirm.retry;
      if (window.confirm(view.confirm.text)) model.send(retry);
    }
  }

  model.on("change:view", draw);
  draw();
  startMap(); // already on the page with a size (the local page of zgc-space edit)
  return () => {
    if (model.off) model.off("change:view", draw);
    if (observer) observer.disconnect();
    if (map) map.remove();
  };
}

export default { render };
