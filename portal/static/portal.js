// Small progressive enhancements; every page works without them. No inline scripts (CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons next to inert URLs and codes.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target || !navigator.clipboard) return;
      await navigator.clipboard.writeText(target.textContent.trim());
      button.dataset.copied = "true";
    });
  });
});
