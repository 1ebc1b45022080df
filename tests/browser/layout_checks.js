// Evaluated in the page by tests/browser/browser_harness.py: horizontal overflow and clipped text.
// arg: {clipAllowed: [css selectors], reflowAllowed: [css selectors]}
(arg) => {
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList && el.classList.length) s += "." + Array.from(el.classList).join(".");
    return s;
  };
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) parts.unshift(describe(e));
    return parts.join(" > ");
  };
  const matchesAny = (el, sels) => sels.some((s) => el.closest(s));
  const vw = window.innerWidth;
  const doc = document.documentElement;
  const result = {scrollWidth: doc.scrollWidth, innerWidth: vw, wide: [], clipped: []};
  const all = Array.from(document.body.querySelectorAll("*"));
  if (doc.scrollWidth > vw + 1) {
    // The deepest elements sticking out of the viewport (their ancestors would only repeat them).
    // Content of a box that scrolls or clips by itself does not widen the page, unless it is positioned
    // out of that box (absolute/fixed elements escape a scroller that is not their containing block).
    const inScroller = (el) => {
      const pos = getComputedStyle(el).position;
      if (pos === "absolute" || pos === "fixed") return false;
      for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
        if (getComputedStyle(e).overflowX !== "visible") return true;
      }
      return false;
    };
    const out = all.filter((el) => {
      if (matchesAny(el, arg.reflowAllowed)) return false;
      const r = el.getBoundingClientRect();
      return (r.width > 0 || r.height > 0) && r.right > vw + 1 && !inScroller(el);
    });
    const deepest = out.filter((el) => !out.some((o) => o !== el && el.contains(o)));
    result.wide = deepest.slice(0, 8).map((el) => ({el: path(el), right: Math.round(el.getBoundingClientRect().right),
                                                    html: el.outerHTML.slice(0, 160)}));
  }
  for (const el of all) {
    if (matchesAny(el, arg.clipAllowed)) continue;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.visibility === "hidden") continue;
    const clipsX = ["hidden", "clip"].includes(cs.overflowX) || cs.textOverflow === "ellipsis";
    const clipsY = ["hidden", "clip"].includes(cs.overflowY);
    if (!clipsX && !clipsY) continue;
    if (!el.textContent.trim()) continue;
    const overX = clipsX && el.scrollWidth > el.clientWidth + 1;
    const overY = clipsY && el.scrollHeight > el.clientHeight + 1;
    if (overX || overY) {
      result.clipped.push({el: path(el), overflow: `${cs.overflowX}/${cs.overflowY}`,
                           box: `${el.clientWidth}x${el.clientHeight}`, content: `${el.scrollWidth}x${el.scrollHeight}`,
                           text: el.textContent.trim().replace(/\s+/g, " ").slice(0, 80)});
    }
  }
  return result;
}
