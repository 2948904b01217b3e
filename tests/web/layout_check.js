// Problems in the page's layout, measured by the browser: each a sentence naming the elements.
// Run by tests/web/test_layout.py through execute_script (the body of a function).
const problems = [];
const root = document.documentElement;
const viewport = root.clientWidth;
if (root.scrollWidth > viewport + 1) problems.push(`page ${root.scrollWidth}px wide in a ${viewport}px viewport`);
const shown = (e) => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden" && !e.closest(".visually-hidden");
};
const name = (e) => e.dataset.testid || `${e.tagName.toLowerCase()}.${String(e.className?.baseVal ?? e.className).split(" ")[0]}`;
const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
const overlap = (a, b) =>
  Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
const noOverlap = (items, what) => {
  const boxes = items.filter(shown).map((e) => [e, e.getBoundingClientRect()]);
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++)
      if (overlap(boxes[i][1], boxes[j][1])) problems.push(`${what}: ${name(boxes[i][0])} overlaps ${name(boxes[j][0])}`);
};
// Every element of a card stays inside the card, and text that does not fit is cut with an ellipsis, never spilled.
for (const card of document.querySelectorAll("article.card")) {
  const box = card.getBoundingClientRect();
  if (box.right > viewport + 1 || box.left < -1) problems.push(`${name(card)} leaves the viewport`);
  for (const e of card.querySelectorAll("*")) {
    if (!shown(e)) continue;
    if (!inside(e.getBoundingClientRect(), box)) problems.push(`${name(e)} leaves ${name(card)}`);
  }
  noOverlap([...card.querySelector("header").children], `${name(card)} header`);
}
noOverlap([...document.querySelectorAll("article.card")], "cards");
noOverlap([...document.querySelectorAll("#home > section")], "panels");
noOverlap([...document.querySelectorAll(".room > h2")], "room titles");
// Nothing in the page is wider than the box it is drawn in (text spilling sideways).
for (const e of document.querySelectorAll("main *, .topbar *")) {
  if (!shown(e) || e.clientWidth === 0 || ["SELECT", "INPUT", "svg", "use", "OL", "UL"].includes(e.tagName)) continue;
  const style = getComputedStyle(e);
  if (style.overflowX === "visible" && e.scrollWidth > e.clientWidth + 1)
    problems.push(`${name(e)} content ${e.scrollWidth}px spills out of ${e.clientWidth}px`);
}
// The header: its items side by side, inside the viewport, and each button's words whole.
const top = [...document.querySelectorAll(".topbar .brand > *, .topbar .top-actions > *")];
noOverlap(top, "header");
for (const e of top.filter(shown)) {
  const r = e.getBoundingClientRect();
  if (r.left < -1 || r.right > viewport + 1) problems.push(`${name(e)} outside the viewport`);
  if (e.tagName === "BUTTON" && (e.scrollWidth > e.clientWidth + 1 || r.height > 48))
    problems.push(`${name(e)} does not read whole (${e.scrollWidth}/${e.clientWidth}px, ${r.height}px high)`);
}
return {problems, viewport: window.innerWidth, cards: document.querySelectorAll("article.card").length};
