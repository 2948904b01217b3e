// Page text is data: strings live in i18n/<lang>.json; this module fills them in.
const LANGS = ["ko", "en"];
const HANGUL = /[\uac00-\ud7a3]/;
const ASCII = /^[\x20-\x7e]+$/;

let lang = "ko";
let strings = {};

/** Load the strings of a language (ko by default; the choice is remembered in this browser). */
export async function loadLanguage(wanted) {
  lang = LANGS.includes(wanted) ? wanted : "ko";
  // Relative to the page's <base href> (api.js hubUrl, which imports this module).
  const response = await fetch(new URL(`static/i18n/${lang}.json`, document.baseURI));
  strings = await response.json();
  document.documentElement.lang = lang;
  try {
    localStorage.setItem("oneteam.lang", lang);
  } catch {
    // Storage may be off (private mode); the choice then lasts for this page only.
  }
  return lang;
}

/** The language the page starts in: the last choice, else Korean. */
export function preferredLanguage() {
  try {
    return localStorage.getItem("oneteam.lang") || "ko";
  } catch {
    return "ko";
  }
}

export function currentLanguage() {
  return lang;
}

/** A string by dotted key with {name} fields filled; an unknown key shows itself. */
export function t(key, params = {}) {
  // English counts: "{n} device" for one, from a `<key>_one` string when the table has it.
  if (params.n === 1 && typeof strings[`${key}_one`] === "string") key = `${key}_one`;
  const value = key.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), strings);
  if (typeof value !== "string") return key.split(".").pop();
  return value.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** A canonical id (mode, course, fan speed) in words, or the id itself when the table lacks it. */
export function label(table, id) {
  const value = strings[table]?.[id];
  return typeof value === "string" ? value : String(id);
}

/** The name to show for something with several names (Korean first, an English one for English). */
export function pickName(names, fallback) {
  const list = Array.isArray(names) ? names : [];
  const match = lang === "ko" ? list.find((n) => HANGUL.test(n)) : list.find((n) => ASCII.test(n));
  return match || fallback || list[0] || "";
}

/** Fill every element marked with data-i18n / data-i18n-placeholder / data-i18n-aria-label. */
export function applyStrings(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  document.title = t("page_title");
}

/** A clock time in the page's language. */
export function clock(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString(lang === "ko" ? "ko-KR" : "en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}
