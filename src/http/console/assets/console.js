// The call page's player: a click on a cue (or a tracker mark, a redaction) seeks there, the cue being heard is highlighted and
// kept in view, space plays and pauses. Everything else works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  const player = document.getElementById("player");
  if (!player) return;
  const seek = (seconds) => {
    player.currentTime = seconds;
    // Autoplay may be refused (no user gesture yet): the seek still happened.
    player.play().catch(() => {});
  };
  // Tracker marks on the timeline, tracker hits and redactions: buttons that seek.
  document.querySelectorAll("[data-seek]").forEach((button) => {
    button.addEventListener("click", () => seek(parseFloat(button.dataset.seek)));
  });

  const cues = Array.from(document.querySelectorAll(".cue[data-start]"));
  if (cues.length === 0) return;
  const starts = cues.map((cue) => parseFloat(cue.dataset.start));
  let current = null;

  const playFrom = (cue) => seek(parseFloat(cue.dataset.start));
  cues.forEach((cue) => {
    cue.addEventListener("click", () => playFrom(cue));
    cue.addEventListener("keydown", (event) => {
      if (event.key === "Enter") playFrom(cue);
    });
  });

  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    let index = -1;
    for (let i = 0; i < starts.length && starts[i] <= t; i++) index = i;
    const cue = index >= 0 ? cues[index] : null;
    if (cue === current) return;
    if (current) current.classList.remove("playing");
    current = cue;
    if (cue) {
      cue.classList.add("playing");
      cue.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT", "BUTTON", "A", "AUDIO"].includes(target.tagName));
    if (event.code !== "Space" || typing) return;
    event.preventDefault();
    if (player.paused) player.play().catch(() => {}); else player.pause();
  });
});
