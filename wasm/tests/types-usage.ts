// Compiled with `tsc --noEmit --strict` (never run): the published types must describe every
// export precisely. Each @ts-expect-error proves a type is not `any`.
import {
  canonicalUsername,
  info,
  matchKey,
  type CognitoMigrateError,
  type ErrorCode,
  type PackageInfo,
} from 'cognito-migrate';
import {
  isMigrationFallbackError,
  migrationAuthFlow,
  signInWithMigration,
  type MigrationAuthFlow,
  type SignInWithMigrationOutput,
} from 'cognito-migrate/amplify';
import type { SignInInput, SignInOutput } from 'aws-amplify/auth';

const canonical: string = canonicalUsername('Name@Example.com');
const key: string = matchKey('Straße');
// @ts-expect-error keys take strings only
matchKey(42);
// @ts-expect-error canonicalUsername returns a string, not a number
const notNumber: number = canonicalUsername('x');

const loaded: PackageInfo = info();
const version: string = loaded.version;
// @ts-expect-error PackageInfo has no such field
loaded.commit;

function describe(code: ErrorCode): string {
  switch (code) {
    case 'EMPTY_IDENTIFIER':
      return 'type something';
    case 'SERIALIZATION':
      return 'internal';
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

try {
  canonicalUsername(' ');
} catch (caught) {
  const error = caught as CognitoMigrateError;
  const message: string = describe(error.code) + error.message;
  // @ts-expect-error codes are a closed set
  const bogus: CognitoMigrateError['code'] = 'NOPE';
  void message;
  void bogus;
}

const flow: MigrationAuthFlow = migrationAuthFlow.fallback;
// @ts-expect-error the constants are read-only
migrationAuthFlow.preferred = 'USER_PASSWORD_AUTH';

async function signInPage(username: string, password: string): Promise<boolean> {
  const fakeSignIn = async (input: SignInInput): Promise<SignInOutput> => {
    void input;
    return { isSignedIn: true, nextStep: { signInStep: 'DONE' } };
  };
  const result: SignInWithMigrationOutput = await signInWithMigration(
    { username, password, options: { clientMetadata: { app: 'web' } } },
    { allowMigrationFallback: false, signIn: fakeSignIn },
  );
  const usedFlow: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH' = result.authFlowType;
  void usedFlow;
  // @ts-expect-error the switch is a boolean
  await signInWithMigration({ username, password }, { allowMigrationFallback: 'no' });
  return result.isSignedIn && !isMigrationFallbackError(new Error('x'));
}

void [canonical, key, notNumber, version, flow, signInPage];
