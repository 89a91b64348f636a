// Filters the server-rendered list of models; the list itself needs no script.
// Reads the embedded JSON index (no fetch: browsers refuse it on file://).
(() => {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const data = JSON.parse(byId("catalog-data").textContent);
  const models = new Map(data.models.map((m) => [m.name, m]));
  const controls = {
    search: byId("search"),
    label: byId("filter-label"),
    team: byId("filter-team"),
    stage: byId("filter-stage"),
    risk: byId("filter-risk"),
  };
  const unsetRisk = controls.risk.dataset.unset;
  const cards = Array.from(document.querySelectorAll(".model[data-name]"));

  const haystack = (m) =>
    [
      m.name,
      m.description || "",
      m.owner || "",
      m.team || "",
      ...Object.entries(m.labels || {}).flatMap(([k, v]) => [k, v, k + "=" + v]),
      ...(m.categories || []),
    ]
      .join("\n")
      .toLowerCase();
  const texts = new Map(data.models.map((m) => [m.name, haystack(m)]));

  const matches = (m, f) => {
    const text = texts.get(m.name);
    if (!f.terms.every((term) => text.includes(term))) return false;
    if (f.label) {
      const cut = f.label.indexOf("=");
      const key = f.label.slice(0, cut);
      if (!Object.hasOwn(m.labels, key) || m.labels[key] !== f.label.slice(cut + 1)) return false;
    }
    if (f.team && m.team !== f.team) return false;
    if (f.stage && !m.versions.some((v) => v.stage === f.stage)) return false;
    if (f.risk && (m.risk_tier || unsetRisk) !== f.risk) return false;
    return true;
  };

  const apply = () => {
    const f = {
      terms: controls.search.value.toLowerCase().split(/\s+/).filter(Boolean),
      label: controls.label.value,
      team: controls.team.value,
      stage: controls.stage.value,
      risk: controls.risk.value,
    };
    let shown = 0;
    for (const card of cards) {
      const m = models.get(card.dataset.name);
      const visible = m !== undefined && matches(m, f);
      card.hidden = !visible;
      if (visible) shown += 1;
    }
    byId("count").textContent = shown + " of " + cards.length + " models";
    byId("empty").hidden = shown > 0;
  };

  for (const control of Object.values(controls)) {
    control.addEventListener("input", apply);
    control.addEventListener("change", apply);
  }
  // Back from a model page, the browser may restore typed filters without an input event.
  window.addEventListener("pageshow", apply);
  apply();
})();
