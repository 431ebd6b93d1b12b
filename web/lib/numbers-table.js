// A "The numbers" table under a chart: every number the chart draws, also for screen readers.

/** rows: arrays of cell texts, the first the column headings. */
export function fillNumbersTable(table, rows) {
  table.replaceChildren(...rows.map((cells, r) => {
    const tr = document.createElement('tr');
    tr.append(...cells.map((text) => {
      const cell = document.createElement(r === 0 ? 'th' : 'td');
      if (r === 0) cell.scope = 'col';
      cell.textContent = text;
      return cell;
    }));
    return tr;
  }));
}
