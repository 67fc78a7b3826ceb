// Repeating rows of a task form (an array of objects, see app/templates/_form.html render_rows).
// Without JavaScript every row shows and empty rows are ignored on submit. With it: only the filled rows and the
// first empty one show, and the «Añadir otra» button reveals the next row.

function hasValue(row) {
  if (row.hasAttribute("data-filled") || row.querySelector(".is-invalid")) {
    return true;
  }
  return Array.from(row.querySelectorAll("input, select, textarea")).some((control) => {
    if (control.type === "checkbox" || control.type === "radio") {
      return control.checked;
    }
    return control.type !== "hidden" && control.value.trim() !== "";
  });
}

function setUp(group) {
  const rows = Array.from(group.querySelectorAll("[data-row]"));
  const button = group.querySelector("[data-add-row]");
  if (!rows.length || !button) {
    return;
  }
  let emptyShown = false;
  rows.forEach((row) => {
    if (hasValue(row)) {
      row.hidden = false;
    } else if (!emptyShown) {
      emptyShown = true;
      row.hidden = false;
    } else {
      row.hidden = true;
    }
  });
  const refresh = () => {
    button.hidden = !rows.some((row) => row.hidden);
  };
  button.addEventListener("click", () => {
    const next = rows.find((row) => row.hidden);
    if (next) {
      next.hidden = false;
      const first = next.querySelector("input, select, textarea");
      if (first) {
        first.focus();
      }
    }
    refresh();
  });
  refresh();
}

document.querySelectorAll("[data-rows]").forEach(setUp);
