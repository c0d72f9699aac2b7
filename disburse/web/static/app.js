// A little JavaScript of our own, nothing loaded from elsewhere: search as you type, a job's
// progress, the print button. Every page works without it.
"use strict";

function text(value) {
  return document.createTextNode(value == null ? "" : String(value));
}

function searchAsYouType(form) {
  const input = form.querySelector("[data-search-input]");
  const results = document.querySelector("[data-search-results]");
  if (!input || !results) return;
  let timer = null;
  let asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = input.value.trim();
      const number = ++asked;
      results.replaceChildren();
      if (query.length < 2) return;
      const response = await fetch("/counter/search?q=" + encodeURIComponent(query), { credentials: "same-origin" });
      if (!response.ok || number !== asked) return;
      const found = await response.json();
      const list = document.createElement("ul");
      for (const item of found) {
        const link = document.createElement("a");
        link.href = "/counter/households/" + encodeURIComponent(item.household_id);
        link.append(text(item.household_id + "  " + item.head_name + "  " + item.village + "  " + item.status + "  " + item.matched));
        const entry = document.createElement("li");
        entry.append(link);
        list.append(entry);
      }
      if (!found.length) {
        const entry = document.createElement("li");
        // The page's language is the server's: the words come with the page (data-search-empty).
        entry.append(text(results.dataset.searchEmpty || ""));
        list.append(entry);
      }
      results.replaceChildren(list);
    }, 200);
  });
}

function followJob(element) {
  if (element.dataset.finished === "yes") return;
  const id = element.dataset.job;
  const poll = async () => {
    try {
      const response = await fetch("/jobs/" + encodeURIComponent(id) + "/status", { credentials: "same-origin" });
      if (response.ok) {
        const status = await response.json();
        element.querySelector("[data-job-state]").textContent = status.state_zh;
        element.querySelector("[data-job-stage]").textContent = status.finished ? "" : status.stage;
        element.querySelector("[data-job-seconds]").textContent = status.seconds.toFixed(1);
        if (status.finished) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // the server is busy or restarting: try again
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("[data-search]")) searchAsYouType(form);
  for (const element of document.querySelectorAll("[data-job]")) followJob(element);
  for (const button of document.querySelectorAll("[data-print]")) button.addEventListener("click", () => window.print());
});
