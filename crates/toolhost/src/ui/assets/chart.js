// A small horizontal bar chart of counts, as SVG built with DOM calls (no inline styles).

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function barChart(container, counts, title) {
  const entries = Object.entries(counts || {});
  if (!entries.length) {
    container.replaceChildren();
    return;
  }
  const max = Math.max(...entries.map(([, n]) => n));
  const rowHeight = 24;
  const labelWidth = 110;
  const width = 360;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${entries.length * rowHeight + 4}`,
    role: 'img', 'aria-label': title, class: 'bars',
  });
  entries.forEach(([name, n], i) => {
    const y = i * rowHeight + 2;
    const barWidth = Math.max(2, ((width - labelWidth - 40) * n) / max);
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    chart.append(
      svg('text', { x: labelWidth - 6, y: y + 15, 'text-anchor': 'end', class: 'bar-label' }, name),
      svg('rect', { x: labelWidth, y: y + 3, width: barWidth, height: rowHeight - 8, rx: 3, class: `bar status-${slug}` }),
      svg('text', { x: labelWidth + barWidth + 6, y: y + 15, class: 'bar-value' }, String(n)));
  });
  container.replaceChildren(chart);
}
