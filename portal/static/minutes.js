// Minutes: keep an editor's unsaved section texts on the server every few seconds while they type, so a
// session time-out loses nothing (the page works without it: "Keep as my draft" does the same).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-autosave]").forEach((form) => {
    let dirty = false;
    const note = document.getElementById(form.dataset.autosaveNote);
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    setInterval(async () => {
      if (!dirty) return;
      dirty = false;
      try {
        const response = await fetch(form.dataset.autosave, {method: "POST", body: new FormData(form),
                                                             credentials: "same-origin"});
        if (note && response.status === 204) note.textContent = note.dataset.saved;
        if (!response.ok) dirty = true;
      } catch (error) {
        dirty = true;
      }
    }, 15000);
  });
});
