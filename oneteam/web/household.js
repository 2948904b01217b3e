// The household panel, for those who manage it (the owner and adults, as the hub decides): who the
// members are, every API token with a revoke button, and a new token shown once.
import { call } from "./api.js";
import { currentLanguage, t } from "./i18n.js";
import { el } from "./dom.js";

function day(seconds) {
  return new Date(seconds * 1000).toLocaleString(currentLanguage() === "ko" ? "ko-KR" : "en-GB", {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

export class HouseholdPanel {
  constructor({ panel, members, tokens, form, name, created, error }) {
    this.panel = panel;
    this.members = members;
    this.tokens = tokens;
    this.form = form;
    this.name = name;
    this.created = created;
    this.error = error;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
  }

  /** Show the panel to a member who manages the household; hide it (and empty it) otherwise. */
  async load(manages) {
    this.panel.hidden = !manages;
    this.created.hidden = true;
    this.error.hidden = true;
    if (!manages) {
      this.members.replaceChildren();
      this.tokens.replaceChildren();
      return;
    }
    await this.refresh();
  }

  async refresh() {
    try {
      const [members, tokens] = await Promise.all([call("GET", "api/members"), call("GET", "api/tokens")]);
      this.members.replaceChildren(...members.members.map((m) => this.member(m)));
      this.tokens.replaceChildren(...tokens.tokens.map((token) => this.token(token)));
    } catch (error) {
      this.say(error.message);
    }
  }

  member(member) {
    const until = member.expires_at ? t("household_until", { when: day(member.expires_at) }) : "";
    return el(
      "li",
      { class: "member", "data-testid": `member-${member.name}`, "data-role": member.role },
      el("strong", { class: "member-name", text: member.display }),
      el("span", { class: `role role-${member.role}`, text: t(`roles.${member.role}`) }),
      until ? el("small", { text: until }) : null,
    );
  }

  token(token) {
    const revoke = el("button", { type: "button", class: "ghost", "data-testid": `token-revoke-${token.id}`, text: t("household_revoke") });
    revoke.addEventListener("click", async () => {
      revoke.disabled = true;
      try {
        await call("DELETE", `api/tokens/${token.id}`);
      } catch (error) {
        this.say(error.message);
      }
      await this.refresh();
    });
    const whose = token.member ? t("household_token_of", { member: token.member }) : "";
    const until = token.expires_at ? t("household_until", { when: day(token.expires_at) }) : t("household_no_expiry");
    return el(
      "li",
      { class: "token", "data-testid": `token-${token.id}`, "data-token-name": token.name },
      el("span", { class: "token-name", text: token.name }),
      el("small", { text: [whose, token.door || "", until].filter(Boolean).join(" · ") }),
      revoke,
    );
  }

  async create() {
    const name = this.name.value.trim();
    if (!name) return;
    try {
      const made = await call("POST", "api/tokens", { name, expires_in_days: 90 });
      this.name.value = "";
      this.created.replaceChildren(el("span", { text: t("household_token_once") }), el("code", { "data-testid": "token-new-value", text: made.token }));
      this.created.hidden = false;
      this.error.hidden = true;
    } catch (error) {
      this.say(error.message);
    }
    await this.refresh();
  }

  say(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
