// The time-zone picker: a search box above each <select data-zone-picker> keeps only the zones whose city,
// country, offset or IANA name holds every word typed. Without JavaScript the grouped list works alone.
// The box's label and its "no match" note come translated in the select's data attributes.
document.addEventListener("DOMContentLoaded", () => {
  const fold = (text) => text.normalize("NFKC").toLowerCase().replaceAll("_", " ");

  document.querySelectorAll("select[data-zone-picker]").forEach((select) => {
    const groups = [...select.querySelectorAll("optgroup")].map((group) => ({ group, options: [...group.children] }));
    const search = document.createElement("input");
    search.type = "search";
    search.id = `${select.id}-search`;
    search.className = "krds-input portal-zone-search";
    search.placeholder = select.dataset.searchLabel;
    search.setAttribute("aria-label", select.dataset.searchLabel);
    search.setAttribute("aria-controls", select.id);
    search.autocomplete = "off";
    const note = document.createElement("p");
    note.className = "form-hint portal-zone-note";
    note.id = `${select.id}-search-note`;
    note.setAttribute("aria-live", "polite");
    note.hidden = true;  // the hint style draws an icon even when the note is empty
    select.before(search, note);

    search.addEventListener("input", () => {
      const words = fold(search.value).split(/\s+/).filter(Boolean);
      const keep = (option) => words.every((word) => fold(`${option.text} ${option.value}`).includes(word));
      const kept = groups.map(({ group, options }) => ({ group, options: options.filter(keep) }))
        .filter(({ options }) => options.length);
      // Nothing matches: say so and keep the whole list rather than an empty one.
      note.textContent = kept.length ? "" : select.dataset.noMatch;
      note.hidden = Boolean(kept.length);
      const shown = kept.length ? kept : groups;
      const chosen = select.value;
      select.replaceChildren(...shown.map(({ group, options }) => {
        group.replaceChildren(...options);
        return group;
      }));
      const stillThere = shown.some(({ options }) => options.some((option) => option.value === chosen));
      select.value = stillThere ? chosen : shown[0].options[0].value;
    });
    // Enter picks the first match instead of sending the form.
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        select.focus();
      }
    });
  });
});
