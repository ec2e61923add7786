//! A moto server for the tests that talk to AWS APIs: started from the project's virtual
//! environment on a free port, stopped when the guard drops (also when a test panics).

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// The project's Python (with moto) and `scripts/moto_serial.py`: moto serving one request at a
/// time, whose `DynamoDB` transactions back up only the items they touch (moto's own copies whole
/// tables, which a ledger with counters cannot afford).
fn moto_command() -> (PathBuf, PathBuf) {
    let cache = std::env::var_os("COGNITO_MIGRATE_CACHE").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/cognito-migrate")
        },
        PathBuf::from,
    );
    let python = cache.join("venv/bin/python");
    assert!(
        cache.join("venv/bin/moto_server").exists(),
        "moto is missing from {}: run scripts/bootstrap.sh",
        cache.display()
    );
    let script = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/moto_serial.py"
    ));
    (python, script)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Moto {
    /// Starts moto and waits until it accepts connections.
    pub fn start() -> Self {
        let (python, script) = moto_command();
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&python)
                .arg(&script)
                .args(["127.0.0.1", &port.to_string()])
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server starts");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if child.try_wait().expect("moto_server status").is_some() {
                    break; // lost the port to someone else: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    /// SDK configuration pointing at this server, with dummy credentials.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .load()
            .await
    }

    /// Runs the CLI with the legacy pool and the ledger on this server, each through its own
    /// variable (and no `AWS_ENDPOINT_URL`), so both routes are exercised.
    pub fn cli(&self, args: &[&str]) -> CliRun {
        let output = Command::new(env!("CARGO_BIN_EXE_cognito-migrate"))
            .args(args)
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
            .env_remove("AWS_PROFILE")
            .env_remove("LEGACY_USER_POOL_ID")
            .env_remove("LEDGER_TABLE")
            .env_remove("LEGACY_REGION")
            .env_remove("LEGACY_ROLE_ARN")
            .env("LEGACY_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("the binary runs");
        CliRun::from(output)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The outcome of one CLI run.
#[derive(Debug)]
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for CliRun {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A fresh, empty folder under the system's temporary folder.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cognito-migrate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// Creates a ledger table as the deploy template and the local stack do: `pk` and `sk` string
/// keys, on demand.
pub async fn create_ledger_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("a key schema element")
    };
    let definition = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("an attribute definition")
    };
    dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(definition("pk"))
        .attribute_definitions(definition("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .expect("CreateTable");
}
