// Small progressive enhancements; every page works without them. No inline scripts (CSP).
document.addEventListener("DOMContentLoaded", () => {
  // On a phone tables become cards (portal.css): each cell carries its column's name, from the table's head.
  document.querySelectorAll("table.tbl").forEach((table) => {
    const names = [...table.querySelectorAll(":scope > thead > tr > th")].map((th) => th.textContent.trim());
    table.querySelectorAll(":scope > tbody > tr").forEach((row) => {
      let column = 0;
      [...row.children].forEach((cell) => {
        if (!cell.hasAttribute("data-label") && names[column] && cell.colSpan === 1) cell.dataset.label = names[column];
        column += cell.colSpan;
      });
    });
  });

  // Copy buttons next to inert URLs and codes.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target || !navigator.clipboard) return;
      await navigator.clipboard.writeText(target.textContent.trim());
      button.dataset.copied = "true";
    });
  });

  // A required field left empty: instead of the browser's own bubble (in the browser's language, not the
  // page's), an error under the field, translated by the server into data-required-message (the field's
  // own, else the page's). The browser still refuses to submit; the server checks again either way.
  const pageRequired = document.body.dataset.requiredMessage;
  let firstInvalid = null;
  document.addEventListener("invalid", (event) => {
    const field = event.target;
    const message = field.dataset.requiredMessage || pageRequired;
    if (!field.validity.valueMissing || !message) return;  // other checks keep the browser's message
    event.preventDefault();
    const id = `${field.id || field.name}-required-error`;
    let error = document.getElementById(id);
    if (!error) {
      error = document.createElement("p");
      error.className = "form-hint-invalid portal-required-error";
      error.id = id;
      error.setAttribute("role", "alert");
      field.insertAdjacentElement("afterend", error);
      field.setAttribute("aria-describedby", [field.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
      field.addEventListener("input", () => {
        error.hidden = true;
        field.removeAttribute("aria-invalid");
      });
    }
    error.textContent = message;
    error.hidden = false;
    field.setAttribute("aria-invalid", "true");
    if (!firstInvalid) {  // focus the first empty field of this attempt, as the browser would
      firstInvalid = field;
      field.focus();
      setTimeout(() => { firstInvalid = null; }, 0);
    }
  }, true);

  // Formal and destructive steps ask first; the question comes translated in data-confirm.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // "Select all": ticks or clears every box of the same name in its form.
  document.querySelectorAll("input[data-select-all]").forEach((box) => {
    const boxes = () => box.form.querySelectorAll(`input[type=checkbox][name="${box.dataset.selectAll}"]`);
    box.hidden = false;
    box.addEventListener("change", () => boxes().forEach((other) => { other.checked = box.checked; }));
  });

  // An outcome's reason is asked for only where it applies ("declined").
  document.querySelectorAll("select[data-reason-group]").forEach((select) => {
    const group = document.getElementById(select.dataset.reasonGroup);
    if (!group) return;
    const toggle = () => { group.hidden = select.value !== "declined"; };
    select.addEventListener("change", toggle);
    toggle();
  });

  // Deadline countdowns: the server renders the text; this keeps it current. The words come translated
  // once per page in data attributes of <body> ("{span}", "{days}", ... are replaced).
  const countdowns = document.querySelectorAll(".portal-countdown[data-deadline]");
  const words = document.body.dataset;
  const span = (ms) => {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    const label = days ? words.labelDaysHours : words.labelHoursMinutes;
    return label.replace("{days}", days).replace("{hours}", hours).replace("{minutes}", mins);
  };
  const refresh = () => countdowns.forEach((el) => {
    const ms = new Date(el.dataset.deadline).getTime() - Date.now();
    const label = ms >= 0 ? words.labelLeft : words.labelOverdue;
    el.textContent = label.replace("{span}", span(ms));
  });
  if (countdowns.length) setInterval(refresh, 30000);
});
