// Preloaded into cognito-local 5.3.0 after case-insensitive-shim.cjs: the rules real Cognito
// enforces that cognito-local does not (cognito-facts.md §1 and §8), each keyed by the pool's own
// settings (UsernameAttributes / AliasAttributes as created) or the app client's. cognito-local
// already refuses updates of immutable attributes (validatePermittedAttributeChanges); the
// stack's self-test checks that too.
//
// It wraps cognito-local's API targets (the router looks each one up per request) and replaces
// its user migration for InitiateAuth / AdminInitiateAuth with one that applies the rules below.
// It also runs the migration on ForgotPassword (§1), which cognito-local never does, and answers
// ForgotPassword as a client with PreventUserExistenceErrors does: a masked destination, the same
// for a user that does not exist. Every trigger event carries Cognito's version, "1".
// Error texts are Cognito's where it documents them; where it does not (the migration response's
// username), they say what the rule is.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');

function fail(message) {
  throw new Error(`cognito-rules: ${message}`);
}

const libDir =
  process.env.COGNITO_LOCAL_LIB ||
  (process.argv[1] ? path.resolve(path.dirname(process.argv[1]), '..') : '');
const modulePath = (rel) => {
  const file = path.join(libDir, rel);
  if (!fs.existsSync(file)) fail(`${file} not found (is this cognito-local 5.3.0?)`);
  return file;
};
const { Targets } = require(modulePath('targets/targets.js'));
const errors = require(modulePath('errors.js'));
const { UserPoolServiceImpl } = require(modulePath('services/userPoolService.js'));
const { LambdaService } = require(modulePath('services/lambda.js'));
if (typeof UserPoolServiceImpl?.prototype?.saveUser !== 'function') fail('UserPoolServiceImpl.prototype.saveUser is missing');
if (typeof LambdaService?.prototype?.createLambdaEvent !== 'function') fail('LambdaService.prototype.createLambdaEvent is missing');
const jwt = require('node:module').createRequire(modulePath('targets/targets.js'))('jsonwebtoken');

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+[0-9]{4,15}$/;
const FORMATS = { email: EMAIL, phone_number: PHONE };
// The Lambda account in the trigger ARNs DescribeUserPool reports (moto's default account).
const LAMBDA_ACCOUNT = process.env.COGNITO_LOCAL_LAMBDA_ACCOUNT || '123456789012';

const aliasesOf = (options) => options?.AliasAttributes ?? [];
const usernameAttributesOf = (options) => options?.UsernameAttributes ?? [];
const foldFor = (options) => (s) =>
  options?.UsernameConfiguration?.CaseSensitive === false ? String(s).toLowerCase() : String(s);

// Username checks of a user about to be created (SignUp, AdminCreateUser, the migration trigger).
function checkNewUsername(options, username) {
  const usernameAttributes = usernameAttributesOf(options);
  if (usernameAttributes.length > 0) {
    // §8: with UsernameAttributes the user signs up with the email or phone itself.
    if (!usernameAttributes.some((name) => FORMATS[name]?.test(username))) {
      const wanted = usernameAttributes.map((n) => (n === 'email' ? 'an email' : 'a phone number')).join(' or ');
      throw new errors.InvalidParameterError(`Username should be ${wanted}.`);
    }
    return;
  }
  // §8: with email as an alias a username may not be in email format (phone likewise).
  if (aliasesOf(options).includes('email') && EMAIL.test(username)) {
    throw new errors.InvalidParameterError(
      'Username cannot be of email format, since user pool is configured for email alias.',
    );
  }
  if (aliasesOf(options).includes('phone_number') && PHONE.test(username)) {
    throw new errors.InvalidParameterError(
      'Username cannot be of phone number format, since user pool is configured for phone number alias.',
    );
  }
}

// §8 app client attribute permissions: a client with WriteAttributes may write only those.
function checkWritable(client, attributes) {
  const allowed = client?.WriteAttributes ?? [];
  if (allowed.length === 0) return;
  if ((attributes ?? []).some((a) => !allowed.includes(a.Name))) {
    throw new errors.NotAuthorizedError('A client attempted to write unauthorized attribute');
  }
}

// The alias attribute the typed value is a value of, in an alias pool: the typed value has that
// alias's format and the migration response puts it on that attribute.
function aliasTyped(options, typed, attributes) {
  const fold = foldFor(options);
  return aliasesOf(options).find((name) => {
    const value = attributes[name];
    if (value === undefined || (FORMATS[name] && !FORMATS[name].test(typed))) return false;
    return name === 'phone_number' ? value === typed : fold(value) === fold(typed);
  });
}

// §1/§8 the migration response's `username`: only the typed userName itself, or, when the typed
// value is an alias value of an alias pool (and sits on that alias), a username of its own.
// With UsernameAttributes Cognito generates the username.
function migratedUsername(options, typed, attributes) {
  const returned = attributes.username;
  const same = returned === undefined || returned === typed;
  if (usernameAttributesOf(options).length > 0) {
    if (!same) throw usernameRefused();
    return crypto.randomUUID();
  }
  if (same) return typed;
  if (aliasesOf(options).length === 0 || !aliasTyped(options, typed, attributes)) throw usernameRefused();
  return returned;
}

function usernameRefused() {
  return new errors.CognitoError(
    'InvalidLambdaResponseException',
    'Invalid lambda response: userAttributes.username may differ from userName only when userName is an alias value assigned to its alias attribute.',
  );
}

// The user a migration response creates, under the rules above; mirrors cognito-local's own
// UserMigration (services/triggers/userMigration.js) otherwise.
function migrateUser(services) {
  return async (ctx, request) => {
    const { clientId, clientMetadata, password, username: typed, userPoolId, validationData } = request;
    const triggerSource = request.triggerSource ?? 'UserMigration_Authentication';
    const userPool = await services.cognito.getUserPoolForClientId(ctx, clientId);
    if (!userPool) throw new errors.ResourceNotFoundError();
    let response;
    try {
      response = await services.triggers.lambda.invoke(ctx, 'UserMigration', {
        clientId,
        clientMetadata,
        password,
        triggerSource,
        userAttributes: {},
        username: typed,
        userPoolId,
        validationData,
      });
    } catch (error) {
      // §1 a refused migration (the event returned unchanged; the shim throws a plain Error)
      // answers the generic message when the client has PreventUserExistenceErrors.
      const client = await services.cognito.getAppClient(ctx, clientId);
      if (!(error instanceof errors.CognitoError) && client?.PreventUserExistenceErrors === 'ENABLED') {
        throw new errors.NotAuthorizedError('Incorrect username or password.');
      }
      throw new errors.NotAuthorizedError();
    }
    const options = userPool.options;
    const attributes = { ...(response?.userAttributes ?? {}) };
    const username = migratedUsername(options, typed, attributes);
    delete attributes.username;
    if (usernameAttributesOf(options).length > 0) {
      // The generated username is the sub, and the typed email or phone is the sign-in value.
      attributes.sub = username;
      for (const name of usernameAttributesOf(options)) {
        if (attributes[name] === undefined && FORMATS[name]?.test(typed)) attributes[name] = typed;
      }
    } else {
      checkNewUsername(options, username);
    }
    if (await userPool.getUserByUsername(ctx, username)) throw new errors.UsernameExistsError();
    const now = services.clock.get();
    const user = {
      Attributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
      Enabled: true,
      Password: password,
      UserCreateDate: now,
      UserLastModifiedDate: now,
      Username: username,
      UserStatus: response?.finalUserStatus ?? 'CONFIRMED',
      RefreshTokens: [],
    };
    await userPool.saveUser(ctx, user);
    return user;
  };
}

// The trigger events. Cognito's carry version "1" (for pre token generation, the V1_0 event that
// DescribeUserPool reports); cognito-local sends "0", which a trigger may take for a later event
// version and answer in a field (claimsAndScopeOverrideDetails) that V1 ignores. And §1 the
// forgot-password migration event, which cognito-local does not build: the sign-in one without
// a password.
const innerCreateLambdaEvent = LambdaService.prototype.createLambdaEvent;
LambdaService.prototype.createLambdaEvent = function createLambdaEvent(event) {
  if (event?.triggerSource !== 'UserMigration_ForgotPassword') {
    return { ...innerCreateLambdaEvent.call(this, event), version: '1' };
  }
  const lambdaEvent = innerCreateLambdaEvent.call(this, { ...event, triggerSource: 'UserMigration_Authentication' });
  const { password: _password, ...request } = lambdaEvent.request;
  return { ...lambdaEvent, version: '1', triggerSource: 'UserMigration_ForgotPassword', request };
};

// How Cognito shows a code's destination: `j***@e***` for an e-mail address, the last digits of
// a phone number.
function maskedDestination(value) {
  const text = String(value ?? '');
  const at = text.indexOf('@');
  if (at > 0) return `${text[0]}***@${text[at + 1] ?? ''}***`;
  if (PHONE.test(text)) return `+*******${text.slice(-4)}`;
  return `${text[0] ?? ''}***@${text[0] ?? ''}***`;
}

// The LambdaConfig a pool reports: cognito-local invokes the triggers of its config for every
// pool, so that is what each pool's DescribeUserPool says, as ARNs.
function lambdaConfig(config) {
  const region = config?.LambdaClient?.region ?? 'us-east-1';
  const arn = (name) => (name.startsWith('arn:') ? name : `arn:aws:lambda:${region}:${LAMBDA_ACCOUNT}:function:${name}`);
  const out = {};
  for (const [trigger, name] of Object.entries(config?.TriggerFunctions ?? {})) {
    if (typeof name !== 'string' || !name) continue;
    out[trigger] = arn(name);
    if (trigger === 'PreTokenGeneration') out.PreTokenGenerationConfig = { LambdaArn: arn(name), LambdaVersion: 'V1_0' };
  }
  return out;
}

// ---- the targets -------------------------------------------------------------------------------

function wrap(name, wrapper) {
  const original = Targets[name];
  if (typeof original !== 'function') fail(`Targets.${name} is missing`);
  Targets[name] = (services) => wrapper(original, services);
}

wrap('SignUp', (original, services) => async (ctx, req) => {
  const userPool = await services.cognito.getUserPoolForClientId(ctx, req.ClientId);
  checkNewUsername(userPool.options, req.Username);
  checkWritable(await services.cognito.getAppClient(ctx, req.ClientId), req.UserAttributes);
  return original(services)(ctx, req);
});

wrap('AdminCreateUser', (original, services) => async (ctx, req) => {
  const userPool = await services.cognito.getUserPool(ctx, req.UserPoolId);
  checkNewUsername(userPool.options, req.Username);
  return original(services)(ctx, req);
});

// Not on AdminUpdateUserAttributes: WriteAttributes bind app clients, not administrators.
wrap('UpdateUserAttributes', (original, services) => async (ctx, req) => {
  const clientId = jwt.decode(req.AccessToken)?.client_id;
  if (clientId) checkWritable(await services.cognito.getAppClient(ctx, clientId), req.UserAttributes);
  return original(services)(ctx, req);
});

for (const name of ['InitiateAuth', 'AdminInitiateAuth']) {
  wrap(name, (original, services) => {
    const triggers = Object.create(services.triggers, { userMigration: { value: migrateUser(services) } });
    const target = original({ ...services, triggers });
    return async (ctx, req) => {
      try {
        return await target(ctx, req);
      } catch (error) {
        // Cognito answers a wrong password of an existing user so (cognito-local:
        // InvalidPasswordException).
        if (error instanceof errors.InvalidPasswordError) {
          throw new errors.NotAuthorizedError('Incorrect username or password.');
        }
        throw error;
      }
    };
  });
}

// §1 ForgotPassword of a user the new pool lacks runs the migration (UserMigration_ForgotPassword);
// a migrated user arrives RESET_REQUIRED and gets the code. With PreventUserExistenceErrors an
// unknown or disabled user, or a refused migration, gets a simulated delivery that looks like a
// real one, and no code is sent.
wrap('ForgotPassword', (original, services) => async (ctx, req) => {
  const userPool = await services.cognito.getUserPoolForClientId(ctx, req.ClientId);
  if (!userPool) throw new errors.ResourceNotFoundError();
  const client = await services.cognito.getAppClient(ctx, req.ClientId);
  const hidden = client?.PreventUserExistenceErrors === 'ENABLED';
  let user = await userPool.getUserByUsername(ctx, req.Username);
  if (!user && services.triggers.enabled('UserMigration')) {
    try {
      user = await migrateUser(services)(ctx, {
        clientId: req.ClientId,
        clientMetadata: req.ClientMetadata,
        username: req.Username,
        userPoolId: userPool.options.Id,
        triggerSource: 'UserMigration_ForgotPassword',
      });
    } catch (error) {
      // Refused (NotAuthorizedError): as if there were no such user. Anything else is Cognito's
      // own error about the response, which the client sees.
      if (!(error instanceof errors.NotAuthorizedError)) throw error;
      user = null;
    }
  }
  if (!user || user.Enabled === false) {
    if (hidden) {
      return {
        CodeDeliveryDetails: { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: maskedDestination(req.Username) },
      };
    }
    if (!user) throw new errors.UserNotFoundError();
    throw new errors.NotAuthorizedError('User is disabled.');
  }
  const answer = await original(services)(ctx, req);
  const details = answer?.CodeDeliveryDetails;
  if (!details) return answer;
  return { ...answer, CodeDeliveryDetails: { ...details, Destination: maskedDestination(details.Destination) } };
});

wrap('DescribeUserPool', (original, services) => async (ctx, req) => {
  const answer = await original(services)(ctx, req);
  if (answer?.UserPool) answer.UserPool.LambdaConfig = lambdaConfig(services.config);
  return answer;
});

// §8 with UsernameAttributes Cognito generates every username (it is the user's sub), whatever
// creates the user; cognito-local does so only for email, on SignUp and AdminCreateUser.
const innerSaveUser = UserPoolServiceImpl.prototype.saveUser;
UserPoolServiceImpl.prototype.saveUser = async function saveUser(ctx, user) {
  const signInAttribute = usernameAttributesOf(this.options).find((n) => FORMATS[n]?.test(user?.Username ?? ''));
  if (signInAttribute && !(await this.dataStore.get(ctx, ['Users', user.Username]))) {
    const attributes = [...(user.Attributes ?? [])];
    if (!attributes.some((a) => a.Name === signInAttribute)) {
      attributes.push({ Name: signInAttribute, Value: user.Username });
    }
    let sub = attributes.find((a) => a.Name === 'sub')?.Value;
    if (!sub) {
      sub = crypto.randomUUID();
      attributes.push({ Name: 'sub', Value: sub });
    }
    // In place: the callers answer with this very object.
    user.Attributes = attributes;
    user.Username = sub;
  }
  return innerSaveUser.call(this, ctx, user);
};

module.exports = { checkNewUsername, checkWritable, migratedUsername, lambdaConfig, maskedDestination };
console.log('cognito-rules: active (alias formats, generated usernames, migration usernames, WriteAttributes, wrong passwords, refused migrations, forgot-password migrations, event version, LambdaConfig)');
