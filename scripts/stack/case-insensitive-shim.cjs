// Preloaded into cognito-local 5.3.0 (`node -r this-file .../cognito-local/lib/bin/start.js`) so
// that it behaves like the new, case-insensitive pool in the ways our tests depend on.
//
// Why each patch exists:
//
// 1. getUserByUsername: cognito-local stores `UsernameConfiguration.CaseSensitive=false` but
//    matches usernames exactly, and looks aliases up only for `UsernameAttributes` (never for
//    `AliasAttributes`). A real case-insensitive pool finds `Foo@X.com` when `foo@x.com` is typed,
//    for the username, `email` and `preferred_username`. Without this, a user migrated once would
//    be "unknown" on the next sign-in with another case and be migrated again.
//    After the original exact lookup finds nothing, we fall back to:
//      - the username, compared lower-cased when the pool is case-insensitive;
//      - `email` / `phone_number` when they are `UsernameAttributes`, or when they are
//        `AliasAttributes` and verified (Cognito only signs in with verified email/phone aliases);
//      - `preferred_username` when it is an alias.
//    Values are compared lower-cased only when `CaseSensitive === false` (phone numbers exactly).
// 2. saveUser: real Cognito gives every user a `sub`; cognito-local's UserMigration path does not.
//    It also stores the migration response's `userAttributes.username` as an attribute named
//    `username`, which no Cognito schema has: we drop it. On creation, attributes missing from the
//    pool's schema are refused as real Cognito does ("Attributes did not conform to the schema"),
//    since cognito-local accepts anything there. The user object is changed in place because the
//    UserMigration path goes on to use that same object for tokens and PostAuthentication.
// 3. JwtTokenGenerator.generate: cognito-local ignores a PreTokenGeneration response's
//    `claimsOverrideDetails.groupOverrideDetails`. Real Cognito replaces the `cognito:groups` claim
//    of the ID and access tokens with `groupsToOverride` (empty or null list: no groups claim).
//    An absent or null `groupOverrideDetails` leaves the groups unchanged. We capture the trigger
//    response and re-sign the tokens with the emulator's key.
//
// 4. LambdaService.invoke, for UserMigration only: cognito-local creates a user from whatever the
//    trigger returns. Returning the event unchanged (no `finalUserStatus`, no attributes), which
//    is how a Lambda refuses a migration, would create an empty CONFIRMED user and let the
//    sign-in through; a response without `finalUserStatus` would make the user CONFIRMED where
//    Cognito makes it RESET_REQUIRED. We refuse the first (the client gets NotAuthorizedException
//    and nothing is stored) and fill in the second as Cognito does. Which username the user gets
//    is cognito-rules.cjs's business (it depends on the pool's shape).
//
// Deliberately NOT changed: cognito-local sends `request.groupConfiguration` as `{}` to
// PreTokenGeneration (real Cognito lists the user's current groups there), and it runs
// PostAuthentication before generating tokens. Tests must not depend on either.
//
// Every patch is checked at start-up against in-memory fakes; a missing symbol or a patch that
// does not take effect aborts the process, so the stack never runs an unpatched emulator.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');

function fail(message) {
  // Thrown from a preload, this stops node before cognito-local starts listening.
  throw new Error(`case-insensitive-shim: ${message}`);
}

// The shim must patch the very module instances that start.js loads, so it resolves them from
// the script being run rather than from wherever `require` would find a copy.
const libDir =
  process.env.COGNITO_LOCAL_LIB ||
  (process.argv[1] ? path.resolve(path.dirname(process.argv[1]), '..') : '');
const modulePath = (rel) => {
  const file = path.join(libDir, rel);
  if (!fs.existsSync(file)) fail(`${file} not found (is this cognito-local 5.3.0?)`);
  return file;
};

const userPoolService = require(modulePath('services/userPoolService.js'));
const tokenGenerator = require(modulePath('services/tokenGenerator.js'));
const errors = require(modulePath('errors.js'));
const lambdaService = require(modulePath('services/lambda.js'));
const cognitoLocalRequire = require('node:module').createRequire(modulePath('services/tokenGenerator.js'));
const jwt = cognitoLocalRequire('jsonwebtoken');
const signingKey = require(modulePath('keys/cognitoLocal.private.json'));

const { UserPoolServiceImpl } = userPoolService;
const { JwtTokenGenerator } = tokenGenerator;
const { LambdaService } = lambdaService;
for (const [name, value] of [
  ['UserPoolServiceImpl.prototype.getUserByUsername', UserPoolServiceImpl?.prototype?.getUserByUsername],
  ['UserPoolServiceImpl.prototype.saveUser', UserPoolServiceImpl?.prototype?.saveUser],
  ['JwtTokenGenerator.prototype.generate', JwtTokenGenerator?.prototype?.generate],
  ['LambdaService.prototype.invoke', LambdaService?.prototype?.invoke],
  ['errors.InvalidParameterError', errors.InvalidParameterError],
  ['jsonwebtoken.sign', jwt?.sign],
  ['cognitoLocal.private.json pem', signingKey?.pem],
]) {
  if (typeof value !== 'function' && typeof value !== 'string') fail(`${name} is missing`);
}

const attr = (user, name) => (user.Attributes ?? []).find((a) => a.Name === name)?.Value;

// ---- 1. case-insensitive lookups -------------------------------------------------------------

const originalGetUserByUsername = UserPoolServiceImpl.prototype.getUserByUsername;

function lookupRules(options) {
  const usernameAttributes = options?.UsernameAttributes ?? [];
  const aliasAttributes = options?.AliasAttributes ?? [];
  const caseInsensitive = options?.UsernameConfiguration?.CaseSensitive === false;
  const fold = (s) => (caseInsensitive ? String(s).toLowerCase() : String(s));
  const rules = [];
  for (const name of ['email', 'phone_number']) {
    const compare = name === 'email' ? fold : String;
    if (usernameAttributes.includes(name)) {
      rules.push((user, typed) => attr(user, name) !== undefined && compare(attr(user, name)) === compare(typed));
    } else if (aliasAttributes.includes(name)) {
      rules.push(
        (user, typed) =>
          attr(user, `${name}_verified`) === 'true' &&
          attr(user, name) !== undefined &&
          compare(attr(user, name)) === compare(typed),
      );
    }
  }
  if (aliasAttributes.includes('preferred_username')) {
    rules.push(
      (user, typed) =>
        attr(user, 'preferred_username') !== undefined && fold(attr(user, 'preferred_username')) === fold(typed),
    );
  }
  return { fold, rules };
}

UserPoolServiceImpl.prototype.getUserByUsername = async function getUserByUsername(ctx, username) {
  const exact = await originalGetUserByUsername.call(this, ctx, username);
  if (exact || typeof username !== 'string') return exact;
  const { fold, rules } = lookupRules(this.options);
  const users = Object.values((await this.dataStore.get(ctx, 'Users', {})) ?? {});
  // A username match wins over an alias match, as in Cognito where a username cannot be
  // another user's alias.
  const byName = users.find((u) => fold(u.Username) === fold(username));
  if (byName) return byName;
  for (const rule of rules) {
    const found = users.find((u) => rule(u, username));
    if (found) return found;
  }
  return null;
};

// ---- 2. sub, stray `username` attribute, schema check on creation ---------------------------

const originalSaveUser = UserPoolServiceImpl.prototype.saveUser;

UserPoolServiceImpl.prototype.saveUser = async function saveUser(ctx, user) {
  if (user && typeof user === 'object') {
    let attributes = (user.Attributes ?? []).filter((a) => a.Name !== 'username');
    if (!attributes.some((a) => a.Name === 'sub')) {
      attributes = [{ Name: 'sub', Value: crypto.randomUUID() }, ...attributes];
    }
    user.Attributes = attributes;
    const schema = this.options?.SchemaAttributes;
    if (Array.isArray(schema) && schema.length > 0) {
      const existing = await this.dataStore.get(ctx, ['Users', user.Username]);
      if (!existing) {
        const known = new Set(schema.map((s) => s.Name));
        const unknown = attributes.find((a) => !known.has(a.Name));
        if (unknown) {
          throw new errors.InvalidParameterError(
            `Attributes did not conform to the schema: ${unknown.Name}: Attribute does not exist in the schema.`,
          );
        }
      }
    }
  }
  return originalSaveUser.call(this, ctx, user);
};

// ---- 3. groupOverrideDetails ------------------------------------------------------------------

const originalGenerate = JwtTokenGenerator.prototype.generate;

// Returns the groups to put in the tokens, `null` for "no groups claim", or `undefined` for
// "leave the claim as it is".
function groupOverride(response) {
  const details = response?.claimsOverrideDetails?.groupOverrideDetails;
  if (details === undefined || details === null) return undefined;
  const groups = details.groupsToOverride;
  return Array.isArray(groups) && groups.length > 0 ? groups.map(String) : null;
}

function resign(token, groups) {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object') return token;
  const payload = { ...decoded.payload };
  if (groups === null) delete payload['cognito:groups'];
  else payload['cognito:groups'] = groups;
  // iat, exp, iss and aud are already in the payload, so they are kept as issued.
  return jwt.sign(payload, signingKey.pem, { algorithm: 'RS256', keyid: decoded.header.kid });
}

JwtTokenGenerator.prototype.generate = async function generate(ctx, ...args) {
  const triggers = this.triggers;
  let response;
  // The trigger object is shared by concurrent requests, so each call gets its own view of it
  // instead of a temporarily swapped method.
  const capturingTriggers = Object.create(triggers, {
    preTokenGeneration: {
      value: async (...triggerArgs) => {
        response = await triggers.preTokenGeneration(...triggerArgs);
        return response;
      },
    },
  });
  const self = Object.create(this, { triggers: { value: capturingTriggers } });
  const tokens = await originalGenerate.call(self, ctx, ...args);
  const groups = groupOverride(response);
  if (groups === undefined) return tokens;
  return { ...tokens, AccessToken: resign(tokens.AccessToken, groups), IdToken: resign(tokens.IdToken, groups) };
};

// ---- 4. UserMigration responses ----------------------------------------------------------------

const originalInvoke = LambdaService.prototype.invoke;

LambdaService.prototype.invoke = async function invoke(ctx, trigger, event) {
  const response = await originalInvoke.call(this, ctx, trigger, event);
  if (trigger !== 'UserMigration') return response;
  const attributes = response?.userAttributes;
  const hasAttributes = attributes && typeof attributes === 'object' && Object.keys(attributes).length > 0;
  if (!hasAttributes && !response?.finalUserStatus) {
    // cognito-local turns any error thrown here into NotAuthorizedException and stores nothing.
    throw new Error('UserMigration: the trigger returned no user (migration refused)');
  }
  const filled = { ...response, userAttributes: { ...(attributes ?? {}) } };
  if (!filled.finalUserStatus) filled.finalUserStatus = 'RESET_REQUIRED';
  return filled;
};

// ---- start-up self-check ----------------------------------------------------------------------

function fakeDataStore(initial) {
  const root = JSON.parse(JSON.stringify(initial));
  const keyPath = (key) => (Array.isArray(key) ? key : [key]);
  return {
    async get(_ctx, key, fallback) {
      let node = root;
      for (const k of keyPath(key)) node = node?.[k];
      return node ?? fallback ?? null;
    },
    async set(_ctx, key, value) {
      const parts = keyPath(key);
      let node = root;
      for (const k of parts.slice(0, -1)) node = node[k] ??= {};
      node[parts[parts.length - 1]] = value;
    },
    async delete() {},
  };
}

async function selfCheck() {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const ctx = { logger: quiet };
  const options = {
    Id: 'selfcheck',
    AliasAttributes: ['email', 'preferred_username'],
    UsernameConfiguration: { CaseSensitive: false },
    SchemaAttributes: [{ Name: 'sub' }, { Name: 'email' }, { Name: 'email_verified' }, { Name: 'preferred_username' }],
  };
  const pool = new UserPoolServiceImpl(fakeDataStore({}), { get: () => new Date() }, fakeDataStore({ Users: {} }), options);
  const user = {
    Username: 'Mixed.Case',
    Attributes: [
      { Name: 'email', Value: 'Mixed@Case.com' },
      { Name: 'email_verified', Value: 'true' },
      { Name: 'preferred_username', Value: 'MixedPref' },
      { Name: 'username', Value: 'Mixed.Case' },
    ],
  };
  await pool.saveUser(ctx, user);
  if (!attr(user, 'sub')) fail('saveUser patch did not add a sub');
  if (attr(user, 'username') !== undefined) fail('saveUser patch kept a username attribute');
  for (const typed of ['mixed.case', 'MIXED@case.COM', 'mixedpref']) {
    const found = await pool.getUserByUsername(ctx, typed);
    if (found?.Username !== 'Mixed.Case') fail(`getUserByUsername patch did not find ${typed}`);
  }
  let refused = false;
  try {
    await pool.saveUser(ctx, { Username: 'other', Attributes: [{ Name: 'custom:nope', Value: 'x' }] });
  } catch (e) {
    refused = e instanceof errors.InvalidParameterError;
  }
  if (!refused) fail('saveUser patch did not refuse an attribute missing from the schema');

  const answering = (response) =>
    new LambdaService({ UserMigration: 'fn' }, {
      invoke: () => ({ promise: async () => ({ StatusCode: 200, Payload: JSON.stringify({ response }) }) }),
    });
  const migration = { triggerSource: 'UserMigration_Authentication', username: 'Typed', password: 'p' };
  let migrationRefused = false;
  try {
    await answering({ userAttributes: {}, finalUserStatus: null }).invoke(ctx, 'UserMigration', migration);
  } catch {
    migrationRefused = true;
  }
  if (!migrationRefused) fail('invoke patch did not refuse an unchanged UserMigration event');
  const filled = await answering({ userAttributes: { email: 'a@b.c' } }).invoke(ctx, 'UserMigration', migration);
  if (filled.finalUserStatus !== 'RESET_REQUIRED') {
    fail('invoke patch did not fill finalUserStatus like Cognito');
  }

  const triggers = {
    enabled: (name) => name === 'PreTokenGeneration',
    preTokenGeneration: async () => ({
      claimsOverrideDetails: { groupOverrideDetails: { groupsToOverride: ['from-trigger'] } },
    }),
  };
  const generator = new JwtTokenGenerator({ get: () => new Date() }, triggers, { IssuerDomain: 'http://selfcheck' });
  const tokens = await generator.generate(
    ctx,
    { Username: 'u', Attributes: [{ Name: 'sub', Value: 's' }] },
    ['original'],
    { ClientId: 'c', UserPoolId: 'selfcheck' },
    undefined,
    'Authentication',
  );
  for (const name of ['AccessToken', 'IdToken']) {
    const claims = jwt.decode(tokens[name]);
    if (JSON.stringify(claims?.['cognito:groups']) !== '["from-trigger"]') {
      fail(`generate patch did not apply groupsToOverride to the ${name}`);
    }
  }
}

// Node runs the main script only after preloads return, but this check is async; start.js needs
// a few event-loop turns before it listens, and a failure exits the process either way.
selfCheck().then(
  () => console.log('case-insensitive-shim: active (lookups, sub, schema check, groupOverrideDetails, migration responses)'),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
