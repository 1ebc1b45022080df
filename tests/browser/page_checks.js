// Evaluated in the page by tests/browser/browser_harness.py: structure facts of the current document.
() => {
  const describe = (el) => {
    if (!el || !el.tagName) return String(el);
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList && el.classList.length) s += "." + Array.from(el.classList).join(".");
    const name = el.getAttribute("name"); if (name) s += `[name="${name}"]`;
    const href = el.getAttribute("href"); if (href) s += `[href="${href}"]`;
    return s;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return cs.display !== "none" && cs.visibility !== "hidden" && (r.width > 0 || r.height > 0);
  };
  const headings = Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6,[role=heading]"))
    .filter((h) => !h.closest("[hidden]"))
    .map((h) => ({level: h.getAttribute("aria-level") ? Number(h.getAttribute("aria-level")) : Number(h.tagName[1]),
                  text: h.textContent.trim().replace(/\s+/g, " ").slice(0, 80)}));
  const pageLang = document.documentElement.getAttribute("lang");
  const sw = document.querySelector(".lang-switch, a[hreflang]:not(link)");
  const invalid = Array.from(document.querySelectorAll("[aria-invalid=true]")).map((el) => {
    const ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    const described = ids.map((id) => document.getElementById(id)).filter(Boolean);
    const messages = described.map((d) => d.textContent.trim()).filter(Boolean);
    const hasErrorMessage = described.some((d) => d.matches(".error-message, [id$='-error']") && d.textContent.trim());
    return {el: describe(el), id: el.id, describedby: ids, missing: ids.filter((id) => !document.getElementById(id)),
            messages, hasErrorMessage};
  });
  // Error summary: links to fields, and where it is in the page.
  const summary = document.querySelector(".error-summary");
  let summaryInfo = null;
  if (summary) {
    const links = Array.from(summary.querySelectorAll("a[href]")).map((a) => {
      const href = a.getAttribute("href");
      const target = href.startsWith("#") ? document.getElementById(decodeURIComponent(href.slice(1))) : null;
      return {href, text: a.textContent.trim(), targetExists: !!target, targetId: target ? target.id : null};
    });
    const firstInvalid = document.querySelector("[aria-invalid=true]");
    const main = document.querySelector("main");
    const h1 = document.querySelector("h1");
    summaryInfo = {
      links,
      beforeFirstInvalid: !firstInvalid || !!(summary.compareDocumentPosition(firstInvalid) & Node.DOCUMENT_POSITION_FOLLOWING),
      inMain: !!(main && main.contains(summary)),
      focused: document.activeElement === summary || summary.contains(document.activeElement),
      nearTop: !h1 || !!(summary.compareDocumentPosition(h1) & Node.DOCUMENT_POSITION_FOLLOWING) ||
               !Array.from(document.querySelectorAll("main form")).some((f) => f.compareDocumentPosition(summary) & Node.DOCUMENT_POSITION_FOLLOWING),
    };
    // Which invalid fields have no link in the summary (a link may target the field or a wrapper around it).
    summaryInfo.unlinkedInvalid = invalid.filter((inv) => {
      const el = inv.id ? document.getElementById(inv.id) : null;
      if (!el) return false;
      return !links.some((l) => { const t = l.targetId && document.getElementById(l.targetId); return t && (t === el || t.contains(el)); });
    }).map((inv) => inv.el);
  }
  const forms = Array.from(document.querySelectorAll("form")).map((f, index) => {
    const fields = Array.from(f.elements).filter((e) => !["hidden", "submit", "button", "reset", "image"].includes(e.type) && e.tagName !== "BUTTON" && e.tagName !== "FIELDSET");
    return {index, method: (f.getAttribute("method") || "get").toLowerCase(), action: f.action,
            fields: fields.map((e) => ({tag: e.tagName.toLowerCase(), type: e.type || "", name: e.name, required: e.required})),
            inMain: !!f.closest("main")};
  });
  return {
    title: document.title,
    lang: pageLang,
    h1: Array.from(document.querySelectorAll("h1")).filter((h) => visible(h) || h.closest("main")).length,
    headings,
    langSwitch: sw ? {el: describe(sw), lang: sw.getAttribute("lang"), hreflang: sw.getAttribute("hreflang"), text: sw.textContent.trim()} : null,
    otherLangElements: Array.from(document.querySelectorAll("body [lang]")).length,
    invalid,
    summary: summaryInfo,
    forms,
    hasMain: !!document.querySelector("main#main"),
  };
}
