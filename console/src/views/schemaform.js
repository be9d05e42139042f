// A form generated from a service's input schema (JSON Schema 2020-12, the
// subset the manifests use: objects, arrays of objects, strings with
// enum/pattern/format/length, numbers, integers, booleans). Each field has
// a label, its description as a hint and an inline error; the form checks
// what the schema says before anything is sent, and server rejections
// ("pointer: reason") are shown on the field they name.
import { h, newId } from '../dom.js';
import { t, schemaText, schemaLang, getLang } from '../i18n.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

// Text from the schema in an element marked with its language when the
// schema has no translation into the page's language.
function marked(tag, attrs, node, word, fallback) {
  const text = schemaText(node, word) || fallback;
  const lang = schemaLang(node, word);
  return h(tag, { ...attrs, lang: lang !== getLang() ? lang : undefined }, text);
}

function labelOf(schema, key) {
  return marked('span', {}, schema, 'title', key);
}

function labelText(schema, key) {
  return schemaText(schema, 'title') || key;
}

function enumLabel(schema, v) {
  const m = schema['x-enum-titles'];
  const lang = document.documentElement.lang;
  if (m && m[lang] && m[lang][schema.enum.indexOf(v)]) return m[lang][schema.enum.indexOf(v)];
  return String(v);
}

// Builds the node for `schema` at JSON pointer `pointer`; `init` is the
// draft value to show.
function build(schema, key, required, init, onChange) {
  if (schema.type === 'object' || schema.properties) return buildObject(schema, key, required, init, onChange);
  if (schema.type === 'array') return buildArray(schema, key, required, init, onChange);
  return buildScalar(schema, key, required, init, onChange);
}

function errorSlot(id) {
  return h('p', { class: 'field-error', id, hidden: true });
}

function showError(slot, control, msg, detail) {
  slot.replaceChildren();
  if (!msg) {
    slot.hidden = true;
    if (control) control.removeAttribute('aria-invalid');
    return;
  }
  slot.hidden = false;
  slot.append(msg);
  if (detail) {
    slot.append(' ', h('span', { class: 'detail', lang: 'en' }, `(${detail})`));
  }
  if (control) control.setAttribute('aria-invalid', 'true');
}

function buildObject(schema, key, required, init, onChange, top = false) {
  const req = new Set(schema.required || []);
  const children = [];
  const errId = newId('err');
  const err = errorSlot(errId);
  const inner = [];
  // The schema reaches the console with its keys sorted; the `required`
  // list keeps the author's order, so required fields come first, in it.
  const order = (schema.required || []).filter((k) => (schema.properties || {})[k])
    .concat(Object.keys(schema.properties || {}).filter((k) => !req.has(k)));
  for (const k of order) {
    const sub = schema.properties[k];
    const c = build(sub, k, req.has(k), init ? init[k] : undefined, onChange);
    children.push([k, c]);
    inner.push(c.el);
  }
  let el;
  if (top) {
    el = h('div', { class: 'form-object' }, err, inner);
  } else {
    const desc = schemaText(schema, 'description');
    const descId = desc ? newId('hint') : undefined;
    el = h('fieldset', { class: 'form-object', 'aria-describedby': [descId, errId].filter(Boolean).join(' ') },
      h('legend', {}, labelOf(schema, key), required ? h('span', { class: 'req' }, ` (${t('form.required')})`) : null),
      desc ? marked('p', { class: 'hint', id: descId }, schema, 'description') : null,
      err, inner);
  }
  const node = {
    el,
    raw() {
      const o = {};
      for (const [k, c] of children) {
        const v = c.raw();
        if (v !== undefined) o[k] = v;
      }
      return Object.keys(o).length ? o : undefined;
    },
    value() {
      const o = {};
      for (const [k, c] of children) {
        const v = c.value();
        if (v !== undefined) o[k] = v;
      }
      if (!Object.keys(o).length && !required && !top) return undefined;
      return o;
    },
    validate(errors) {
      showError(err, null, '');
      // An optional object left empty is not checked.
      if (!required && !top && node.raw() === undefined) {
        for (const [, c] of children) c.clear();
        return;
      }
      for (const [, c] of children) c.validate(errors);
    },
    clear() { showError(err, null, ''); for (const [, c] of children) c.clear(); },
    find(parts) {
      if (!parts.length) return node;
      const c = children.find(([k]) => k === parts[0]);
      return c ? c[1].find(parts.slice(1)) : node;
    },
    serverError(msg, detail) { showError(err, null, msg, detail); },
    focus() {
      const f = el.querySelector('input, select, textarea');
      if (f) f.focus();
    },
  };
  return node;
}

function buildArray(schema, key, required, init, onChange) {
  const itemSchema = schema.items || { type: 'string' };
  const what = labelText(itemSchema, key);
  const min = schema.minItems || 0;
  const max = schema.maxItems ?? Infinity;
  const errId = newId('err');
  const err = errorSlot(errId);
  const list = h('div', { class: 'array-items' });
  const items = [];
  const addBtn = h('button', { type: 'button', class: 'secondary' });
  const desc = schemaText(schema, 'description');
  const descId = desc ? newId('hint') : undefined;
  const el = h('fieldset', { class: 'form-array', 'aria-describedby': [descId, errId].filter(Boolean).join(' ') },
    h('legend', {}, labelOf(schema, key), required ? h('span', { class: 'req' }, ` (${t('form.required')})`) : null),
    desc ? marked('p', { class: 'hint', id: descId }, schema, 'description') : null,
    err, list, addBtn);

  function relabel() {
    items.forEach((it, i) => {
      it.legend.textContent = t('form.item', { what, n: i + 1 });
      it.remove.textContent = t('form.remove', { what, n: i + 1 });
      it.remove.disabled = items.length <= min;
    });
    addBtn.textContent = t('form.add', { what });
    addBtn.disabled = items.length >= max;
  }
  function add(v, focus) {
    const c = (itemSchema.type === 'object' || itemSchema.properties)
      ? buildObject(itemSchema, '', true, v, onChange, true)
      : build({ ...itemSchema, title: what, 'x-title': itemSchema['x-title'] }, '', true, v, onChange);
    const legend = h('legend');
    const remove = h('button', { type: 'button', class: 'link' });
    const box = h('fieldset', { class: 'array-item' }, legend, c.el, remove);
    const it = { c, box, legend, remove };
    remove.addEventListener('click', () => {
      const i = items.indexOf(it);
      items.splice(i, 1);
      box.remove();
      relabel();
      onChange();
      (items[Math.min(i, items.length - 1)]?.c || { focus: () => addBtn.focus() }).focus();
    });
    items.push(it);
    list.append(box);
    relabel();
    if (focus) c.focus();
  }
  addBtn.addEventListener('click', () => { add(undefined, true); onChange(); });
  const initial = Array.isArray(init) ? init : [];
  for (const v of initial) add(v, false);
  while (items.length < Math.max(min, required ? 1 : 0)) add(undefined, false);
  relabel();

  const node = {
    el,
    raw() {
      const a = items.map((it) => it.c.raw());
      return a.some((v) => v !== undefined) ? a.map((v) => (v === undefined ? {} : v)) : undefined;
    },
    value() {
      if (!items.length && !required) return undefined;
      return items.map((it) => it.c.value() ?? {});
    },
    validate(errors) {
      showError(err, null, '');
      if (items.length < min) { showError(err, null, t('err.minItems', { n: min })); errors.push(node); }
      if (items.length > max) { showError(err, null, t('err.maxItems', { n: max })); errors.push(node); }
      for (const it of items) it.c.validate(errors);
    },
    clear() { showError(err, null, ''); items.forEach((it) => it.c.clear()); },
    find(parts) {
      if (!parts.length) return node;
      const it = items[Number(parts[0])];
      return it ? it.c.find(parts.slice(1)) : node;
    },
    serverError(msg, detail) { showError(err, null, msg, detail); },
    focus() { (items[0]?.c || { focus: () => addBtn.focus() }).focus(); },
  };
  return node;
}

function buildScalar(schema, key, required, init, onChange) {
  const id = newId('field');
  const errId = `${id}-err`;
  const desc = schemaText(schema, 'description');
  const hintId = desc ? `${id}-hint` : undefined;
  const described = [hintId, errId].filter(Boolean).join(' ');
  const type = schema.type;
  let control;
  let kind = 'text';
  if (type === 'boolean') {
    kind = 'boolean';
    control = h('input', { id, type: 'checkbox', 'aria-describedby': described, checked: init === true });
  } else if (Array.isArray(schema.enum)) {
    kind = 'enum';
    control = h('select', { id, 'aria-describedby': described, required },
      h('option', { value: '' }, t('form.choose')),
      schema.enum.map((v, i) => h('option', { value: String(i), selected: init === v, lang: schema['x-enum-titles'] && schema['x-enum-titles'][getLang()] ? undefined : 'en' }, enumLabel(schema, v))));
  } else if (type === 'number' || type === 'integer') {
    kind = type;
    control = h('input', {
      id, type: 'text', inputmode: type === 'integer' ? 'numeric' : 'decimal',
      'aria-describedby': described, required, value: init === undefined ? '' : String(init),
    });
  } else if (schema.format === 'date') {
    kind = 'date';
    control = h('input', { id, type: 'date', 'aria-describedby': described, required, value: init || '' });
  } else if (schema.format === 'date-time') {
    kind = 'datetime';
    let v = '';
    if (init) {
      const d = new Date(init);
      if (!Number.isNaN(d.getTime())) {
        v = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      }
    }
    control = h('input', { id, type: 'datetime-local', 'aria-describedby': described, required, value: v });
  } else if ((schema.maxLength || 0) > 300) {
    control = h('textarea', { id, rows: 3, 'aria-describedby': described, required });
    control.value = init || '';
  } else {
    control = h('input', {
      id, type: schema.format === 'email' ? 'email' : 'text',
      autocomplete: 'off', 'aria-describedby': described, required, value: init === undefined ? '' : String(init),
    });
  }
  control.dataset.key = key;
  const err = errorSlot(errId);
  const label = h('label', { for: id }, labelOf(schema, key),
    required && kind !== 'boolean' ? h('span', { class: 'req' }, ` (${t('form.required')})`) : null);
  const el = h('div', { class: `field field-${kind}` },
    kind === 'boolean' ? h('div', { class: 'check' }, control, label) : label,
    desc ? marked('p', { class: 'hint', id: hintId }, schema, 'description') : null,
    kind === 'boolean' ? err : [control, err]);
  control.addEventListener('input', onChange);
  control.addEventListener('change', onChange);
  // Checked again when the field is left, once it has been marked wrong.
  control.addEventListener('blur', () => {
    if (control.getAttribute('aria-invalid') === 'true') node.validate([]);
  });

  function rawValue() {
    if (kind === 'boolean') return control.checked;
    if (kind === 'enum') return control.value === '' ? undefined : schema.enum[Number(control.value)];
    const v = control.value.trim();
    if (v === '') return undefined;
    if (kind === 'datetime') {
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? v : d.toISOString();
    }
    return v;
  }
  function parsed() {
    const v = rawValue();
    if (v === undefined || (kind !== 'number' && kind !== 'integer')) return v;
    const n = Number(String(v).replace(',', '.'));
    return Number.isFinite(n) ? n : v;
  }
  function check() {
    const v = parsed();
    if (v === undefined) return required ? t('err.required') : '';
    if (kind === 'number' || kind === 'integer') {
      if (typeof v !== 'number') return t('err.number');
      if (kind === 'integer' && !Number.isInteger(v)) return t('err.integer');
      if (schema.minimum !== undefined && v < schema.minimum) return t('err.minimum', { n: schema.minimum });
      if (schema.maximum !== undefined && v > schema.maximum) return t('err.maximum', { n: schema.maximum });
      if (schema.exclusiveMinimum !== undefined && v <= schema.exclusiveMinimum) return t('err.exclusiveMinimum', { n: schema.exclusiveMinimum });
      if (schema.exclusiveMaximum !== undefined && v >= schema.exclusiveMaximum) return t('err.exclusiveMaximum', { n: schema.exclusiveMaximum });
      return '';
    }
    if (typeof v === 'string') {
      const len = [...v].length;
      if (schema.minLength !== undefined && len < schema.minLength) return t('err.minLength', { n: schema.minLength });
      if (schema.maxLength !== undefined && len > schema.maxLength) return t('err.maxLength', { n: schema.maxLength });
      if (kind === 'date' && !DATE.test(v)) return t('err.date');
      if (kind === 'datetime' && Number.isNaN(new Date(v).getTime())) return t('err.datetime');
      if (schema.format === 'email' && !EMAIL.test(v)) return t('err.email');
      if (schema.pattern) {
        try {
          if (!new RegExp(schema.pattern, 'u').test(v)) return t('err.pattern');
        } catch (e) { /* a pattern this browser cannot read: the server checks it */ }
      }
    }
    return '';
  }
  const node = {
    el,
    raw: rawValue,
    value: parsed,
    validate(errors) {
      const msg = check();
      showError(err, control, msg);
      if (msg) errors.push(node);
    },
    clear() { showError(err, control, ''); },
    find() { return node; },
    serverError(msg, detail) { showError(err, control, msg, detail); },
    focus() { control.focus(); },
  };
  return node;
}

// The form for `schema`; `init` is a draft to restore, `onChange` is called
// on every edit (to keep the draft).
export function schemaForm(schema, init, onChange = () => {}) {
  const root = buildObject(schema || { type: 'object' }, '', true, init, onChange, true);
  return {
    el: root.el,
    raw: () => root.raw(),
    value: () => root.value() || {},
    // Checks every field; returns the nodes in error (first is focused by
    // the caller).
    validate() {
      const errors = [];
      root.validate(errors);
      return errors;
    },
    clearErrors() { root.clear(); },
    // Shows "pointer: reason" pairs of a server rejection on their fields;
    // returns the nodes marked.
    serverErrors(message, fields) {
      const marked = [];
      let pairs = (fields || []).map((f) => [f.pointer || '', f.message || '']);
      if (!pairs.length) {
        const i = message.indexOf(': ');
        const rest = i >= 0 ? message.slice(i + 2) : message;
        for (const part of rest.split('; ')) {
          const m = /^(\/[^:]*|):\s*(.*)$/.exec(part.trim());
          if (m) pairs.push([m[1], m[2]]);
        }
      }
      for (const [pointer, reason] of pairs) {
        const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        const node = root.find(parts);
        node.serverError(t('err.server'), reason);
        marked.push(node);
      }
      return marked;
    },
  };
}
