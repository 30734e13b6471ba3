/* global document, history, location, URL, URLSearchParams, window */
// Entry point: the admin key, hash routing (#/runs, #/runs/<id>), focus and announcements between views.
import { ApiError, session, UnauthorizedError } from './api.mjs';
import { h } from './dom.mjs';
import { renderRunDetail } from './runDetail.mjs';
import { filtersFrom, renderRunsList, runsListHash } from './runsList.mjs';

const main = document.getElementById('main');
const announcer = document.getElementById('announcer');
const changeKey = document.getElementById('change-key');

let stopView = () => {};
let lastListHash = '#/runs';
let keyProblem = '';

/** A `?code=` in the page URL becomes the session's key, and leaves the address bar and history at once. */
function adoptKeyFromUrl() {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  if (code) session.save(code, session.operator());
  url.searchParams.delete('code');
  // Relative links resolve against <base>, so the page must sit at its folder URL (…/dashboard/).
  if (!url.pathname.endsWith('/')) url.pathname = new URL(document.baseURI).pathname;
  if (url.href !== location.href) history.replaceState(null, '', url.href);
}

function announce(message) {
  // Cleared first so the same sentence twice is still read out.
  announcer.textContent = '';
  window.setTimeout(() => (announcer.textContent = message), 50);
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Errors a view cannot handle itself: a bad key sends the operator to the key form, anything else is shown. */
function showError(error, container) {
  if (error instanceof UnauthorizedError) {
    keyProblem = error.message;
    stopView();
    renderKeyForm();
    return;
  }
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  container.replaceChildren(
    h('div', { class: 'alert', role: 'alert' }, message),
    h('p', {}, h('a', { href: lastListHash }, 'Back to the runs')),
  );
}

function renderKeyForm() {
  document.title = 'Admin key · durable-agents';
  changeKey.hidden = true;
  const keyInput = h('input', {
    id: 'admin-key',
    name: 'key',
    type: 'password',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'key-hint',
  });
  const operatorInput = h('input', {
    id: 'operator-name',
    name: 'operator',
    autocomplete: 'name',
    maxlength: '200',
    value: session.operator(),
    'aria-describedby': 'operator-hint',
  });
  const form = h(
    'form',
    { class: 'key-form' },
    keyProblem ? h('p', { class: 'alert', role: 'alert' }, keyProblem) : null,
    h(
      'p',
      { class: 'field' },
      h('label', { for: 'admin-key' }, 'Admin key'),
      keyInput,
      h(
        'span',
        { id: 'key-hint', class: 'hint' },
        'The operator API needs the admin (master) key: npm start prints it locally; in Azure it is the ' +
          "function app's _master host key. It is kept in this tab's session storage only.",
      ),
    ),
    h(
      'p',
      { class: 'field' },
      h('label', { for: 'operator-name' }, 'Your name (optional)'),
      operatorInput,
      h(
        'span',
        { id: 'operator-hint', class: 'hint' },
        'Recorded with every approval and action you take from this page.',
      ),
    ),
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Open the console')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    session.save(keyInput.value.trim(), operatorInput.value.trim());
    keyProblem = '';
    route();
  });
  main.replaceChildren(h('h1', { tabindex: '-1' }, 'Operator console'), form);
  keyInput.focus();
}

/** The view for the current `#/…`; moves focus to its heading so keyboard and screen reader users follow. */
function route() {
  stopView();
  stopView = () => {};
  if (!session.key()) {
    renderKeyForm();
    return;
  }
  changeKey.hidden = false;
  const hash = location.hash.replace(/^#/, '') || '/runs';
  const [path = '', query = ''] = hash.split('?');
  const runMatch = /^\/runs\/(.+)$/.exec(path);
  const ctx = { announce, navigate, showError, listHash: () => lastListHash };
  if (runMatch) {
    const id = decodeURIComponent(runMatch[1]);
    document.title = `Run ${id} · durable-agents`;
    stopView = renderRunDetail(main, id, ctx);
  } else {
    lastListHash = runsListHash(filtersFrom(new URLSearchParams(query)));
    document.title = 'Runs · durable-agents';
    stopView = renderRunsList(main, new URLSearchParams(query), ctx);
  }
  main.querySelector('h1')?.focus();
}

changeKey.addEventListener('click', () => {
  session.forgetKey();
  keyProblem = '';
  route();
});
window.addEventListener('hashchange', route);
adoptKeyFromUrl();
route();
