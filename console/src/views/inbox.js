// A department's inbox (COUNTER's for the counter): its open tasks with age
// and due date; open one, see its input, complete it with a result or fail
// it with a reason.
import { api, query, stream } from '../api.js';
import { h, announce } from '../dom.js';
import { t, fmtAge, fmtDateTime, fmtNumber } from '../i18n.js';
import { titleOf, documentList } from './counter.js';
import { errorBox, caseLink, prettyJson } from './common.js';

function departmentOf(who) {
  if (who.role === 'department') return who.department;
  if (who.role === 'counter') return 'COUNTER';
  return new URLSearchParams(location.search).get('department') || '';
}

async function listTasks(department) {
  const all = [];
  let page = '';
  for (let i = 0; i < 20; i += 1) {
    const r = await api('GET', `/tasks${query({ department, limit: 200, page_token: page })}`);
    all.push(...(r.tasks || []));
    page = r.next_page_token || '';
    if (!page) break;
  }
  return all;
}

function taskPath(task, department) {
  return `/task/${encodeURIComponent(`${task.case_id}|${task.task_id}`)}?department=${encodeURIComponent(department)}`;
}

export async function inboxView(ctx) {
  const { main, who, navigate } = ctx;
  const department = departmentOf(who);
  const heading = h('h1', {}, t('inbox.title', { department: department || '…' }));
  main.append(heading);
  if (who.role === 'admin') {
    const input = h('input', { id: 'inbox-dept', type: 'text', value: department, autocomplete: 'off' });
    const f = h('form', { class: 'card inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'inbox-dept' }, t('inbox.department')), input),
      h('button', { type: 'submit', class: 'primary' }, t('inbox.show')));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      navigate(`/inbox?department=${encodeURIComponent(input.value.trim().toUpperCase())}`);
    });
    main.append(f);
    if (!department) return undefined;
  }
  const host = h('div', { id: 'inbox-list' });
  const refresh = h('button', { type: 'button', class: 'secondary', onclick: () => load(true) }, t('inbox.refresh'));
  main.append(h('div', { class: 'actions' }, refresh), host);

  async function load(say) {
    let tasks;
    try {
      tasks = await listTasks(department);
    } catch (e) {
      if (e.code !== 'UNAUTHENTICATED') host.replaceChildren(errorBox(e));
      return;
    }
    tasks.sort((a, b) => Number(a.created_at_ms) - Number(b.created_at_ms));
    const now = Date.now();
    const rows = [];
    for (const task of tasks) {
      const due = Number(task.due_at_ms || 0);
      rows.push(h('tr', { dataset: { case: task.case_id } },
        h('th', { scope: 'row' }, who.role === 'department' ? task.case_id : caseLink(task.case_id, navigate)),
        h('td', {}, await titleOf(task.service)),
        h('td', {}, task.task_type),
        h('td', {}, task.state),
        h('td', {}, fmtAge((now - Number(task.created_at_ms)) / 1000)),
        h('td', { class: due && due < now ? 'overdue' : '' }, due ? fmtDateTime(due) : t('case.none')),
        h('td', {}, h('a', {
          href: taskPath(task, department), class: 'button',
          'aria-label': t('inbox.openTask', { task: task.task_type, id: task.case_id }),
          onclick: (e) => { e.preventDefault(); navigate(taskPath(task, department)); },
        }, t('inbox.open')))));
    }
    const caption = t('inbox.count', { count: fmtNumber(tasks.length) });
    host.replaceChildren(tasks.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'inbox-table' },
        h('caption', {}, caption),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('inbox.case')),
          h('th', { scope: 'col' }, t('inbox.service')),
          h('th', { scope: 'col' }, t('inbox.task')),
          h('th', { scope: 'col' }, t('inbox.state')),
          h('th', { scope: 'col' }, t('inbox.age')),
          h('th', { scope: 'col' }, t('inbox.due')),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('inbox.open'))))),
        h('tbody', {}, rows)))
      : h('p', { id: 'inbox-empty' }, t('inbox.none')));
    if (say) announce(caption);
  }
  await load(false);
  // New tasks arrive as the cases move on.
  let timer = null;
  let poll = null;
  const es = stream('/changes', { department }, {
    change: () => { clearTimeout(timer); timer = setTimeout(() => load(false), 200); },
  });
  // A role that may not watch cases (a department) looks again every 10 s.
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED && !poll) poll = setInterval(() => load(false), 10_000);
  };
  return () => { clearTimeout(timer); clearInterval(poll); es.close(); };
}

export async function taskView(ctx) {
  const { main, params, navigate } = ctx;
  const [caseId, taskId] = params[0].split('|');
  const department = new URLSearchParams(location.search).get('department') || departmentOf(ctx.who);
  const back = h('p', {}, h('a', {
    href: `/inbox${ctx.who.role === 'admin' ? `?department=${encodeURIComponent(department)}` : ''}`,
    onclick: (e) => { e.preventDefault(); navigate(e.currentTarget.getAttribute('href')); },
  }, t('task.back')));
  let task;
  try {
    task = (await listTasks(department)).find((x) => x.case_id === caseId && x.task_id === taskId);
  } catch (e) {
    main.append(errorBox(e), back);
    return;
  }
  if (!task) {
    main.append(h('h1', {}, t('task.title', { task: taskId, id: caseId })), h('p', { role: 'status' }, t('task.gone')), back);
    return;
  }
  const heading = h('h1', { tabindex: '-1' }, t('task.title', { task: task.task_type, id: task.case_id }));
  const status = h('div', { role: 'status', id: 'task-status' });
  main.append(heading, back,
    h('section', { class: 'card', 'aria-labelledby': 'task-facts-h' },
      h('h2', { id: 'task-facts-h', class: 'visually-hidden' }, t('inbox.task')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('inbox.service')), h('dd', {}, await titleOf(task.service)),
        h('dt', {}, t('inbox.state')), h('dd', {}, task.state),
        h('dt', {}, t('inbox.age')), h('dd', {}, fmtAge((Date.now() - Number(task.created_at_ms)) / 1000)),
        h('dt', {}, t('inbox.due')), h('dd', {}, Number(task.due_at_ms) ? fmtDateTime(task.due_at_ms) : t('case.none')),
        h('dt', {}, t('task.attempt')), h('dd', {}, fmtNumber(task.attempt || 1)))),
    h('section', { class: 'card', 'aria-labelledby': 'task-input-h' },
      h('h2', { id: 'task-input-h' }, t('task.input')),
      h('pre', { class: 'json', id: 'task-input', tabindex: '0' }, prettyJson(task.input_json))),
    status);

  // Complete: a JSON object.
  const result = h('textarea', { id: 'task-result', rows: 6, spellcheck: 'false', 'aria-describedby': 'task-result-hint task-result-err' });
  result.value = '{}';
  const resultErr = h('p', { class: 'field-error', id: 'task-result-err', hidden: true });
  const complete = h('form', { class: 'card', 'aria-labelledby': 'complete-h', novalidate: true },
    h('h2', { id: 'complete-h' }, t('task.complete')),
    h('div', { class: 'field' },
      h('label', { for: 'task-result' }, t('task.result')),
      h('p', { class: 'hint', id: 'task-result-hint' }, t('task.resultHelp')),
      result, resultErr),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('task.completeDo'))));
  // A COUNTER task is answered with the documents the applicant brought.
  const docs = department === 'COUNTER' ? documentList([{}]) : null;
  if (docs) {
    complete.insertBefore(h('fieldset', { class: 'documents' }, h('legend', {}, t('task.documents')), docs.el), complete.querySelector('.field'));
    complete.querySelector('.field').hidden = true;
  }
  complete.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (docs) {
      const bad = docs.validate();
      if (bad.length) { bad[0].focus(); return; }
      await answer('/tasks/complete', { token: task.token, result_json: JSON.stringify({ documents: docs.value() }) }, t('task.done'));
      return;
    }
    let parsed;
    try {
      parsed = JSON.parse(result.value);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    } catch (ex) {
      resultErr.hidden = false;
      resultErr.textContent = t('err.json');
      result.setAttribute('aria-invalid', 'true');
      result.focus();
      return;
    }
    resultErr.hidden = true;
    result.removeAttribute('aria-invalid');
    await answer('/tasks/complete', { token: task.token, result_json: JSON.stringify(parsed) }, t('task.done'));
  });

  // Fail: an error name and a reason.
  const code = h('input', { id: 'task-error', type: 'text', value: 'Dept.Refused', spellcheck: 'false', 'aria-describedby': 'task-error-hint' });
  const cause = h('textarea', { id: 'task-cause', rows: 3 });
  const fail = h('form', { class: 'card', 'aria-labelledby': 'fail-h', novalidate: true },
    h('h2', { id: 'fail-h' }, t('task.fail')),
    h('div', { class: 'field' },
      h('label', { for: 'task-error' }, t('task.errorCode')),
      h('p', { class: 'hint', id: 'task-error-hint' }, t('task.errorHelp')), code),
    h('div', { class: 'field' }, h('label', { for: 'task-cause' }, t('task.cause')), cause),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, t('task.failDo'))));
  fail.addEventListener('submit', async (e) => {
    e.preventDefault();
    await answer('/tasks/fail', { token: task.token, error: code.value.trim(), cause: cause.value.trim() }, t('task.failed'));
  });
  main.append(complete, fail);

  async function answer(path, body, done) {
    try {
      await api('POST', path, body);
      complete.remove();
      fail.remove();
      status.replaceChildren(h('p', { class: 'notice' }, done));
      announce(done);
      heading.focus();
    } catch (ex) {
      if (ex.code !== 'UNAUTHENTICATED') status.replaceChildren(errorBox(ex));
    }
  }
  heading.focus();
}
