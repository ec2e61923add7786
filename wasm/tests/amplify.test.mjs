// The helper's decisions, with Amplify's signIn replaced by a recording fake.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { canonicalUsername } from 'cognito-migrate';
import {
  isMigrationFallbackError,
  migrationAuthFlow,
  migrationSignInFlows,
  signInWithMigration,
} from 'cognito-migrate/amplify';

const DONE = Object.freeze({ isSignedIn: true, nextStep: { signInStep: 'DONE' } });

/** An AuthError as Amplify v6 throws it: an Error whose name is Cognito's exception. */
function authError(name, message) {
  return Object.assign(new Error(message), { name });
}

/** A signIn that answers each call from a script of results (objects) or errors (thrown). */
function scriptedSignIn(...script) {
  const calls = [];
  const signIn = async (input) => {
    calls.push(structuredClone(input));
    const next = script.shift();
    if (next === undefined) throw new Error('signIn called more often than scripted');
    if (next instanceof Error) throw next;
    return next;
  };
  return { signIn, calls };
}

const PASSWORD_ONLY = ['USER_PASSWORD_AUTH'];
const SRP_FIRST = ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'];
const SRP_ONLY = ['USER_SRP_AUTH'];
const WRONG_PASSWORD = () => authError('NotAuthorizedException', 'Incorrect username or password.');
const SRP_FIRST_SETTINGS = { migrationFlow: 'srp-first' };
const flowsOf = (calls) => calls.map((call) => call.options.authFlowType);

// Mode selection.

test('window open (no settings): USER_PASSWORD_AUTH alone', () => {
  assert.deepEqual(migrationSignInFlows(), PASSWORD_ONLY);
  assert.deepEqual(migrationSignInFlows({ allowMigrationFallback: true, migrationFlow: 'password' }), PASSWORD_ONLY);
});

test('window open with an end date still ahead: USER_PASSWORD_AUTH alone', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  for (const migrationEndsAt of [new Date('2026-03-01T12:00:00.001Z'), '2026-06-30T00:00:00Z', Date.parse('2027-01-01')]) {
    assert.deepEqual(migrationSignInFlows({ migrationEndsAt }, now), PASSWORD_ONLY, String(migrationEndsAt));
  }
});

test('window closed by the flag: SRP only, whatever the flow asked for', () => {
  assert.deepEqual(migrationSignInFlows({ allowMigrationFallback: false }), SRP_ONLY);
  assert.deepEqual(migrationSignInFlows({ allowMigrationFallback: false, migrationFlow: 'srp-first' }), SRP_ONLY);
  assert.deepEqual(migrationSignInFlows({ allowMigrationFallback: false, migrationEndsAt: '2999-01-01' }), SRP_ONLY);
});

test('window closed by a date that has passed (or is now): SRP only, whatever the flow asked for', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  for (const migrationEndsAt of [new Date('2026-03-01T12:00:00Z'), '2026-02-28T23:59:59Z', Date.parse('2025-01-01')]) {
    assert.deepEqual(migrationSignInFlows({ migrationEndsAt }, now), SRP_ONLY, String(migrationEndsAt));
    assert.deepEqual(migrationSignInFlows({ migrationEndsAt, migrationFlow: 'srp-first' }, now), SRP_ONLY);
  }
  // Without `now`, the current time.
  assert.deepEqual(migrationSignInFlows({ migrationEndsAt: new Date(Date.now() - 60_000) }), SRP_ONLY);
  assert.deepEqual(migrationSignInFlows({ migrationEndsAt: new Date(Date.now() + 3_600_000) }), PASSWORD_ONLY);
});

test('explicit SRP-first while the window is open: SRP, then USER_PASSWORD_AUTH', () => {
  assert.deepEqual(migrationSignInFlows(SRP_FIRST_SETTINGS), SRP_FIRST);
  const now = new Date('2026-03-01T12:00:00Z');
  assert.deepEqual(migrationSignInFlows({ ...SRP_FIRST_SETTINGS, migrationEndsAt: '2026-04-01' }, now), SRP_FIRST);
});

test('settings it cannot read throw a TypeError instead of choosing a flow', () => {
  for (const settings of [
    { allowMigrationFallback: 'no' },
    { allowMigrationFallback: 0 },
    { migrationFlow: 'srp' },
    { migrationFlow: 'USER_SRP_AUTH' },
    { migrationEndsAt: 'next spring' },
    { migrationEndsAt: new Date(Number.NaN) },
  ]) {
    assert.throws(() => migrationSignInFlows(settings), TypeError, JSON.stringify(settings));
  }
});

// The sign-in in each mode.

test('window open: one USER_PASSWORD_AUTH request with the canonical username', async () => {
  const { signIn, calls } = scriptedSignIn(DONE);
  const result = await signInWithMigration({ username: '  Ana@Example.COM ', password: 'pw' }, { signIn });
  assert.deepEqual(result, { ...DONE, authFlowType: 'USER_PASSWORD_AUTH' });
  assert.deepEqual(calls, [
    { username: 'ana@example.com', password: 'pw', options: { authFlowType: 'USER_PASSWORD_AUTH' } },
  ]);
});

test('window open: a wrong password is one failed attempt, never retried', async () => {
  for (const error of [WRONG_PASSWORD(), authError('UserNotFoundException', 'User does not exist.')]) {
    const { signIn, calls } = scriptedSignIn(error);
    await assert.rejects(signInWithMigration({ username: 'carol', password: 'pw' }, { signIn }), error);
    assert.deepEqual(flowsOf(calls), PASSWORD_ONLY, error.name);
  }
});

test('window closed by the flag: one SRP request, and its error is surfaced', async () => {
  const error = authError('UserNotFoundException', 'User does not exist.');
  const { signIn, calls } = scriptedSignIn(error);
  await assert.rejects(
    signInWithMigration({ username: 'frank', password: 'pw' }, { allowMigrationFallback: false, signIn }),
    error,
  );
  assert.deepEqual(flowsOf(calls), SRP_ONLY);
});

test('window closed by a past date: one SRP request, even when SRP-first was asked for', async () => {
  const { signIn, calls } = scriptedSignIn(WRONG_PASSWORD());
  await assert.rejects(
    signInWithMigration(
      { username: 'frank', password: 'pw' },
      { migrationEndsAt: new Date(Date.now() - 1000), migrationFlow: 'srp-first', signIn },
    ),
    { name: 'NotAuthorizedException' },
  );
  assert.deepEqual(flowsOf(calls), SRP_ONLY);
  const done = scriptedSignIn(DONE);
  const result = await signInWithMigration({ username: 'Frank', password: 'pw' }, { migrationEndsAt: '2001-01-01', signIn: done.signIn });
  assert.equal(result.authFlowType, 'USER_SRP_AUTH');
});

test('unreadable settings are refused before anything is sent', async () => {
  const { signIn, calls } = scriptedSignIn();
  await assert.rejects(signInWithMigration({ username: 'x', password: 'pw' }, { migrationEndsAt: 'soon', signIn }), TypeError);
  await assert.rejects(signInWithMigration({ username: 'x', password: 'pw' }, { migrationFlow: 'both', signIn }), TypeError);
  assert.equal(calls.length, 0);
});

test('SRP-first: an SRP success is one call', async () => {
  const { signIn, calls } = scriptedSignIn(DONE);
  const result = await signInWithMigration({ username: 'Ana', password: 'pw' }, { ...SRP_FIRST_SETTINGS, signIn });
  assert.deepEqual(result, { ...DONE, authFlowType: 'USER_SRP_AUTH' });
  assert.deepEqual(flowsOf(calls), SRP_ONLY);
});

test('SRP-first: UserNotFoundException falls back to USER_PASSWORD_AUTH, keeping the other options', async () => {
  const { signIn, calls } = scriptedSignIn(authError('UserNotFoundException', 'User does not exist.'), DONE);
  const options = { clientMetadata: { app: 'web' } };
  const result = await signInWithMigration({ username: 'Bob', password: 'pw', options }, { ...SRP_FIRST_SETTINGS, signIn });
  assert.equal(result.authFlowType, 'USER_PASSWORD_AUTH');
  assert.equal(result.isSignedIn, true);
  assert.deepEqual(
    calls.map((call) => call.options),
    [
      { clientMetadata: { app: 'web' }, authFlowType: 'USER_SRP_AUTH' },
      { clientMetadata: { app: 'web' }, authFlowType: 'USER_PASSWORD_AUTH' },
    ],
  );
  assert.deepEqual(options, { clientMetadata: { app: 'web' } }, 'the caller\'s options were changed');
  assert.ok(calls.every((call) => call.username === 'bob' && call.password === 'pw'));
});

test('SRP-first: "Incorrect username or password." falls back, so a wrong password costs two attempts', async () => {
  const { signIn, calls } = scriptedSignIn(WRONG_PASSWORD(), DONE);
  const result = await signInWithMigration({ username: 'carol', password: 'pw' }, { ...SRP_FIRST_SETTINGS, signIn });
  assert.equal(result.authFlowType, 'USER_PASSWORD_AUTH');
  assert.deepEqual(flowsOf(calls), SRP_FIRST);

  const refused = WRONG_PASSWORD();
  const twice = scriptedSignIn(WRONG_PASSWORD(), refused);
  await assert.rejects(signInWithMigration({ username: 'carol', password: 'bad' }, { ...SRP_FIRST_SETTINGS, signIn: twice.signIn }), refused);
  assert.deepEqual(flowsOf(twice.calls), SRP_FIRST, 'a failed fallback must not be retried again');
});

test('SRP-first: a NotAuthorizedException that proves the account exists does not fall back', async () => {
  for (const message of ['User is disabled.', 'Password attempts exceeded']) {
    const error = authError('NotAuthorizedException', message);
    const { signIn, calls } = scriptedSignIn(error);
    await assert.rejects(signInWithMigration({ username: 'dan', password: 'pw' }, { ...SRP_FIRST_SETTINGS, signIn }), error);
    assert.equal(calls.length, 1, message);
  }
});

test('SRP-first: other errors are surfaced without a second attempt', async () => {
  for (const name of [
    'UserAlreadyAuthenticatedException',
    'TooManyRequestsException',
    'InvalidParameterException',
    'NetworkError',
    'Unknown',
  ]) {
    const error = authError(name, 'nope');
    const { signIn, calls } = scriptedSignIn(error);
    await assert.rejects(signInWithMigration({ username: 'erin', password: 'pw' }, { ...SRP_FIRST_SETTINGS, signIn }), error);
    assert.equal(calls.length, 1, name);
  }
});

test('a challenge (MFA, new password) is returned, not retried', async () => {
  const challenge = { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' } };
  for (const [settings, flow] of [[{}, 'USER_PASSWORD_AUTH'], [SRP_FIRST_SETTINGS, 'USER_SRP_AUTH']]) {
    const { signIn, calls } = scriptedSignIn(challenge);
    const result = await signInWithMigration({ username: 'hal', password: 'pw' }, { ...settings, signIn });
    assert.deepEqual(result, { ...challenge, authFlowType: flow });
    assert.equal(calls.length, 1);
  }
});

test('the username sent is exactly the package canonicalUsername', async () => {
  for (const typed of ['STRAẞE@Example.de', '\u200BİSTANBUL', 'Re\u0301mi', ' Plain@Example.COM\t']) {
    const { signIn, calls } = scriptedSignIn(DONE);
    await signInWithMigration({ username: typed, password: 'pw' }, { signIn });
    assert.equal(calls[0].username, canonicalUsername(typed));
  }
});

test('a blank username throws EMPTY_IDENTIFIER before anything is sent', async () => {
  for (const username of [' \u200B', ' \t ']) {
    const { signIn, calls } = scriptedSignIn();
    await assert.rejects(signInWithMigration({ username, password: 'pw' }, { signIn }), {
      name: 'CognitoMigrateError',
      code: 'EMPTY_IDENTIFIER',
    });
    assert.equal(calls.length, 0);
  }
});

test('a caller-chosen authFlowType is refused', async () => {
  for (const authFlowType of ['USER_PASSWORD_AUTH', 'USER_SRP_AUTH', 'CUSTOM_WITHOUT_SRP']) {
    const { signIn, calls } = scriptedSignIn();
    await assert.rejects(
      signInWithMigration({ username: 'ivy', password: 'pw', options: { authFlowType } }, { signIn }),
      TypeError,
    );
    assert.equal(calls.length, 0);
  }
});

test('isMigrationFallbackError ignores non-errors', () => {
  for (const value of [undefined, null, 'UserNotFoundException', 42, {}]) {
    assert.equal(isMigrationFallbackError(value), false);
  }
  assert.equal(isMigrationFallbackError({ name: 'UserNotFoundException' }), true);
});

test('migrationAuthFlow names the two flows and is frozen', () => {
  assert.deepEqual({ ...migrationAuthFlow }, { password: 'USER_PASSWORD_AUTH', srp: 'USER_SRP_AUTH' });
  assert.ok(Object.isFrozen(migrationAuthFlow));
});
