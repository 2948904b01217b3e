// Building the page's elements: the one helper every panel uses.

/** An element with attributes and children: `class` and `text` set className/textContent, an
 * undefined, null or false attribute is left off, `true` sets a boolean attribute (`hidden`). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter(Boolean));
  return node;
}
