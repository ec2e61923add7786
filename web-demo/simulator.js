// The trigger simulator view: an event (form and raw JSON kept in sync), legacy users, assumed
// password outcomes, schema and policy in; the core's decision out.

const OUTCOMES = [
  ['ok', 'ok: password right'],
  ['wrong', 'wrong password'],
  ['disabled', 'user disabled'],
  ['not-found', 'user not found'],
  ['reset-required', 'reset required'],
  ['not-confirmed', 'not confirmed'],
  ['sms-mfa', 'right, SMS MFA asked'],
  ['totp-mfa', 'right, TOTP asked'],
  ['select-mfa', 'right, MFA choice asked'],
  ['mfa-setup', 'right, MFA setup asked'],
  ['new-password-required', 'right, temporary password'],
];

// A collision pair: the legacy pool holds both; the new pool cannot tell them apart.
const EXAMPLE_USERS = [
  {
    Username: 'Name@Acme.com',
    Attributes: [
      { Name: 'sub', Value: 'a1b2c3d4-0000-4000-8000-000000000001' },
      { Name: 'email', Value: 'Name@Acme.com' },
      { Name: 'email_verified', Value: 'true' },
    ],
    UserCreateDate: '2019-03-01T10:00:00Z',
    UserLastModifiedDate: '2023-06-01T10:00:00Z',
    Enabled: true,
    UserStatus: 'CONFIRMED',
  },
  {
    Username: 'name@acme.com',
    Attributes: [
      { Name: 'sub', Value: 'a1b2c3d4-0000-4000-8000-000000000002' },
      { Name: 'email', Value: 'name@acme.com' },
      { Name: 'email_verified', Value: 'false' },
    ],
    UserCreateDate: '2020-01-15T09:00:00Z',
    UserLastModifiedDate: '2021-02-01T09:00:00Z',
    Enabled: true,
    UserStatus: 'CONFIRMED',
  },
];

/** Pretty JSON with the top-level `response` wrapped in a <mark> when it differs from `before`. */
function renderResponse(pre, value, before) {
  pre.replaceChildren();
  if (value === null) {
    pre.textContent = 'No response: the trigger fails the request, so Cognito returns an error to the client.';
    return;
  }
  const entries = Object.entries(value);
  pre.append('{\n');
  entries.forEach(([key, item], i) => {
    const text = `  ${JSON.stringify(key)}: ${JSON.stringify(item, null, 2).replaceAll('\n', '\n  ')}${i < entries.length - 1 ? ',' : ''}\n`;
    if (key === 'response' && JSON.stringify(item) !== JSON.stringify(before?.response)) {
      const mark = document.createElement('mark');
      mark.textContent = text;
      mark.title = 'Set by the trigger';
      pre.append(mark);
    } else {
      pre.append(text);
    }
  });
  pre.append('}');
}

function showError(element, error) {
  if (!error) {
    element.hidden = true;
    element.textContent = '';
    return;
  }
  element.hidden = false;
  const where = error.line ? ` (line ${error.line}, column ${error.column})` : '';
  element.textContent = `${error.code ? `${error.code}: ` : ''}${error.message}${error.message.includes('line ') ? '' : where}`;
}

export function startSimulator(tools) {
  const $ = (id) => document.getElementById(id);
  const form = $('sim-form');
  const source = $('sim-source');
  const userName = $('sim-username');
  const password = $('sim-password');
  const clientId = $('sim-client');
  const eventText = $('sim-event');
  const usersText = $('sim-users');
  const outcomes = $('sim-outcomes');
  const chosen = new Map([['Name@Acme.com', 'ok'], ['name@acme.com', 'wrong']]);

  for (const name of tools.triggerSources()) source.add(new Option(name, name));
  source.value = 'UserMigration_Authentication';
  userName.value = 'name@ACME.com';
  password.value = 'correct horse battery staple';
  clientId.value = '3n4b5urk1ft4fl3mg5e62d9ado';
  usersText.value = JSON.stringify(EXAMPLE_USERS, null, 2);

  let event = null;
  let users = [];

  const formFields = () => {
    const fields = { userName: userName.value, clientId: clientId.value };
    if (source.value === 'UserMigration_Authentication') fields.password = password.value;
    if (source.value.startsWith('PreSignUp_') && userName.value.includes('@')) fields.userAttributes = { email: userName.value };
    if (source.value.startsWith('TokenGeneration_') || source.value.startsWith('PostAuthentication_')) {
      const owner = (users ?? []).find((user) => tools.matchKey(user.Username) === tools.matchKey(userName.value));
      if (owner) fields.userAttributes = { 'custom:legacy_username': owner.Username };
    }
    return fields;
  };

  const setEventError = (error) => {
    eventText.setAttribute('aria-invalid', String(Boolean(error)));
    showError($('sim-event-error'), error);
  };

  /** The form changed the source: a fresh event of that shape. */
  const rebuildEvent = () => {
    try {
      event = tools.buildEvent(source.value, formFields());
      eventText.value = JSON.stringify(event, null, 2);
      setEventError(null);
    } catch (error) {
      event = null;
      setEventError(error);
    }
  };

  /** A field of the form changed: patch it into the current event, keeping other edits. */
  const patchEvent = () => {
    if (!event) return rebuildEvent();
    event.userName = userName.value;
    if (event.callerContext && typeof event.callerContext === 'object') event.callerContext.clientId = clientId.value;
    if (source.value === 'UserMigration_Authentication' && event.request && typeof event.request === 'object') {
      event.request.password = password.value;
    }
    eventText.value = JSON.stringify(event, null, 2);
    try {
      tools.parseEvent(eventText.value);
      setEventError(null);
    } catch (error) {
      setEventError(error);
    }
  };

  /** The raw JSON changed: the form follows it. */
  const readEventText = () => {
    try {
      event = tools.parseEvent(eventText.value);
      setEventError(null);
    } catch (error) {
      event = null;
      setEventError(error);
      return;
    }
    if (tools.triggerSources().includes(event.triggerSource)) source.value = event.triggerSource;
    userName.value = event.userName ?? '';
    clientId.value = event.callerContext?.clientId ?? '';
    if (typeof event.request?.password === 'string') password.value = event.request.password;
    syncPasswordField();
  };

  const syncPasswordField = () => {
    const needed = source.value === 'UserMigration_Authentication';
    password.disabled = !needed;
    $('sim-password-field').classList.toggle('disabled', !needed);
  };

  const readUsers = () => {
    const error = $('sim-users-error');
    try {
      const parsed = tools.parseJson(usersText.value, 'the legacy users');
      const list = Array.isArray(parsed) ? parsed : parsed?.Users;
      if (!Array.isArray(list)) throw Object.assign(new Error('give a list of users, or an object with a "Users" list'), { code: 'INVALID_INPUT' });
      users = list;
      usersText.setAttribute('aria-invalid', 'false');
      showError(error, null);
    } catch (failure) {
      users = null;
      usersText.setAttribute('aria-invalid', 'true');
      showError(error, failure);
    }
    renderOutcomes();
  };

  const renderOutcomes = () => {
    const names = [...new Set((users ?? []).map((user) => user?.Username).filter((name) => typeof name === 'string' && name))];
    outcomes.replaceChildren(
      ...names.map((name, i) => {
        const row = document.createElement('div');
        row.className = 'outcome';
        const id = `sim-outcome-${i}`;
        const label = document.createElement('label');
        label.htmlFor = id;
        label.textContent = name;
        const select = document.createElement('select');
        select.id = id;
        select.dataset.username = name;
        for (const [value, text] of OUTCOMES) select.add(new Option(text, value));
        select.value = chosen.get(name) ?? 'ok';
        select.addEventListener('change', () => {
          chosen.set(name, select.value);
          run();
        });
        row.append(label, select);
        return row;
      }),
    );
    if (names.length === 0) outcomes.textContent = 'No legacy users: add some above.';
  };

  const run = () => {
    const errorBox = $('sim-error');
    const output = $('sim-output');
    if (!event || !users) {
      showError(errorBox, { message: 'Fix the JSON above to see a result.' });
      output.hidden = true;
      return;
    }
    const schema = $('sim-schema').value.split(/[\s,]+/).filter(Boolean);
    const passwordOutcomes = {};
    for (const select of outcomes.querySelectorAll('select')) passwordOutcomes[select.dataset.username] = select.value;
    let result;
    try {
      result = tools.simulateTrigger({
        event,
        legacyUsers: users,
        passwordOutcomes,
        schema: schema.length ? schema : undefined,
        policy: {
          collision: $('sim-collision').value,
          mfa: $('sim-mfa').value,
          temporaryPassword: $('sim-temporary').value,
          maxCandidates: Math.max(1, Number.parseInt($('sim-max').value, 10) || 1),
        },
      });
    } catch (error) {
      showError(errorBox, error);
      output.hidden = true;
      return;
    }
    showError(errorBox, null);
    output.hidden = false;
    const badge = $('sim-decision');
    badge.textContent = result.decision;
    badge.className = `badge ${result.decision}`;
    $('sim-summary').textContent = result.approval
      ? `Migrate ${result.approval.legacyUsername} as ${result.approval.finalUserStatus}${result.approval.enableSmsMfa ? ' with SMS MFA' : ''}.`
      : `${result.triggerSource} for "${event.userName}" (match key "${result.matchKey}").`;
    $('sim-reason-row').hidden = !result.reasonCode && !result.explanation;
    $('sim-reason').textContent = result.reasonCode ?? '';
    $('sim-explanation').textContent = result.explanation ?? '';
    $('sim-client-message').textContent = result.clientMessage;
    $('sim-checks').textContent = result.checks.length
      ? result.checks.map((check) => `${check.username}: ${check.outcome}`).join('; ')
      : 'none';
    $('sim-trace').replaceChildren(...result.trace.map((step) => Object.assign(document.createElement('li'), { textContent: step })));
    renderResponse($('sim-response'), result.response, event);
  };

  source.addEventListener('change', () => {
    syncPasswordField();
    rebuildEvent();
    run();
  });
  for (const input of [userName, password, clientId]) {
    input.addEventListener('input', () => {
      patchEvent();
      run();
    });
  }
  eventText.addEventListener('input', () => {
    readEventText();
    run();
  });
  usersText.addEventListener('input', () => {
    readUsers();
    run();
  });
  for (const id of ['sim-schema', 'sim-collision', 'sim-mfa', 'sim-temporary', 'sim-max']) {
    $(id).addEventListener('change', run);
  }
  form.addEventListener('submit', (submitted) => {
    submitted.preventDefault();
    run();
  });

  readUsers();
  syncPasswordField();
  rebuildEvent();
  run();
}
