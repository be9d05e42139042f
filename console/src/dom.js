// A small element builder: h('p', {class: 'x', onclick: f}, 'text', child).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k in el && typeof v !== 'string') {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let uid = 0;
export function newId(prefix = 'f') { uid += 1; return `${prefix}-${uid}`; }

// Announces `text` to screen readers.
export function announce(text) {
  const live = document.getElementById('live');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 30);
}

export function statusBadge(status, label) {
  const cls = String(status || '').replace('CASE_STATUS_', '').toLowerCase();
  return h('span', { class: `badge badge-${cls}`, dataset: { status } }, label);
}

// Replaces el's children; arrays are flattened and null/false left out.
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
