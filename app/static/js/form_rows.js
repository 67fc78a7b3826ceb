// Repeating rows of a task form (an array of objects or of texts, see app/templates/_form.html render_rows).
// Without JavaScript every row shows and empty rows are ignored on submit. With it: only the filled rows (at least
// minItems) and the first empty one show; «Añadir otra» reveals the next row and «Quitar» empties and hides a row.
// A list marked data-fixed (ui:options addable false) offers no «Añadir otra».

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

function clear(row) {
  row.removeAttribute("data-filled");
  row.querySelectorAll("input, select, textarea").forEach((control) => {
    if (control.type === "checkbox" || control.type === "radio") {
      control.checked = false;
    } else if (control.type !== "hidden") {
      control.value = "";
    }
  });
}

function setUp(group) {
  const rows = Array.from(group.querySelectorAll(":scope > [data-row]"));
  const button = group.querySelector(":scope > [data-add-row]");
  if (!rows.length || !button) {
    return;
  }
  const fixed = group.hasAttribute("data-fixed");
  const minimum = Number(group.getAttribute("data-min-rows") || "0");
  let emptyShown = false;
  rows.forEach((row, index) => {
    if (hasValue(row)) {
      row.hidden = false;
    } else if (index < minimum) {
      row.hidden = false; // a row the list needs counts as the empty one offered
      emptyShown = true;
    } else if (!emptyShown && !fixed) {
      emptyShown = true;
      row.hidden = false;
    } else {
      row.hidden = !fixed;
    }
  });
  const refresh = () => {
    button.hidden = fixed || !rows.some((row) => row.hidden);
    const shown = rows.filter((row) => !row.hidden).length;
    rows.forEach((row) => {
      const remove = row.querySelector(":scope > [data-remove-row]");
      if (remove) {
        remove.hidden = fixed || shown <= Math.max(minimum, 1);
      }
    });
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
  rows.forEach((row) => {
    const remove = row.querySelector(":scope > [data-remove-row]");
    if (remove) {
      remove.addEventListener("click", () => {
        clear(row);
        row.hidden = true;
        refresh();
        button.focus();
      });
    }
  });
  refresh();
}

document.querySelectorAll("[data-rows]").forEach(setUp);
