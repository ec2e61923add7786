//! The reads of `cognito-migrate doctor`: the trigger function's configuration and resource
//! policy, both pools and their app clients, the ledger table. Each answer comes back as plain
//! facts for the CLI to judge, or as the service's error code and message on one line, which the
//! operator needs to fix the setting (these reads never run in the trigger, whose errors carry
//! codes only).

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, ExplicitAuthFlowsType, PreTokenGenerationVersionConfigType,
    UserPoolClientDescription, UserPoolClientType, UserPoolType, UsernameAttributeType,
    UsernameConfigurationType,
};
use aws_sdk_dynamodb::types::{AttributeValue, TableDescription};
use aws_sdk_lambda::operation::get_policy::GetPolicyError;

use crate::clients::{self, LegacyAccess};
use crate::ledger::{Ledger, attr};

/// The trigger function as deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionFacts {
    /// Its ARN (the name given, when the answer has none).
    pub arn: String,
    /// Its environment variables.
    pub variables: HashMap<String, String>,
}

/// The Lambda functions a pool invokes, by trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerArns {
    /// `UserMigration`.
    pub user_migration: Option<String>,
    /// `PreSignUp`.
    pub pre_sign_up: Option<String>,
    /// `PostAuthentication`.
    pub post_authentication: Option<String>,
    /// `PreTokenGeneration`, from `PreTokenGenerationConfig` when the pool has one (event
    /// versions 2 and 3), else the older field.
    pub pre_token_generation: Option<String>,
}

/// One attribute of a pool's schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeFacts {
    /// Its name as the pool lists it (a custom one with or without its `custom:` prefix).
    pub name: String,
    /// Its value may change after the user is created (`Mutable`; false when the pool does not
    /// say).
    pub mutable: bool,
}

/// A user pool's settings that decide whether a migration runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolFacts {
    /// The pool's ARN.
    pub arn: Option<String>,
    /// Usernames are case-sensitive (true for pools created without `UsernameConfiguration`:
    /// the API's default).
    pub case_sensitive: bool,
    /// The schema's attributes.
    pub attributes: Vec<AttributeFacts>,
    /// `UsernameAttributes` (`email`, `phone_number`): users sign in with these instead of a
    /// username.
    pub username_attributes: Vec<String>,
    /// `AliasAttributes` (`email`, `phone_number`, `preferred_username`).
    pub alias_attributes: Vec<String>,
    /// The triggers attached.
    pub triggers: TriggerArns,
}

/// An app client's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    /// `ClientId`.
    pub id: String,
    /// `ClientName`.
    pub name: String,
    /// `ExplicitAuthFlows`.
    pub auth_flows: Vec<String>,
    /// The client's secret, to compare with the configured one; never printed.
    pub secret: Option<String>,
    /// `WriteAttributes` (empty: every attribute is writable).
    pub write_attributes: Vec<String>,
}

/// A few items of the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerSample {
    /// Items read.
    pub items: usize,
    /// The newest `indexedAtMs` among them.
    pub newest_indexed_at_ms: Option<i64>,
}

/// The service's error code and message on one line: what `doctor` prints next to the fix.
/// Without a code (no answer, an unreadable one), the error and its causes as they display
/// themselves; never their debug form, which dumps the whole HTTP exchange.
fn error_text<E>(error: &E) -> String
where
    E: ProvideErrorMetadata + std::error::Error,
{
    let text = match (error.code(), error.message()) {
        (Some(code), Some(message)) if !message.trim().is_empty() => format!("{code}: {message}"),
        (Some(code), _) => code.to_owned(),
        (None, _) => {
            let mut text = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                // Wrappers often repeat their cause's text.
                if !text.ends_with(&cause_text) {
                    text = format!("{text}: {cause_text}");
                }
                source = cause.source();
            }
            text
        }
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn non_empty(arn: Option<&str>) -> Option<String> {
    arn.filter(|a| !a.is_empty()).map(str::to_owned)
}

fn pool_facts(pool: &UserPoolType) -> PoolFacts {
    let triggers = pool
        .lambda_config()
        .map(|config| TriggerArns {
            user_migration: non_empty(config.user_migration()),
            pre_sign_up: non_empty(config.pre_sign_up()),
            post_authentication: non_empty(config.post_authentication()),
            pre_token_generation: non_empty(
                config
                    .pre_token_generation_config()
                    .map(PreTokenGenerationVersionConfigType::lambda_arn)
                    .or(config.pre_token_generation()),
            ),
        })
        .unwrap_or_default();
    PoolFacts {
        arn: pool.arn().map(str::to_owned),
        case_sensitive: pool
            .username_configuration()
            .is_none_or(UsernameConfigurationType::case_sensitive),
        attributes: pool
            .schema_attributes()
            .iter()
            .filter_map(|a| {
                a.name().map(|name| AttributeFacts {
                    name: name.to_owned(),
                    mutable: a.mutable() == Some(true),
                })
            })
            .collect(),
        username_attributes: pool
            .username_attributes()
            .iter()
            .map(UsernameAttributeType::as_str)
            .map(str::to_owned)
            .collect(),
        alias_attributes: pool
            .alias_attributes()
            .iter()
            .map(AliasAttributeType::as_str)
            .map(str::to_owned)
            .collect(),
        triggers,
    }
}

fn client_facts(client: &UserPoolClientType) -> ClientFacts {
    ClientFacts {
        id: client.client_id().unwrap_or_default().to_owned(),
        name: client.client_name().unwrap_or_default().to_owned(),
        auth_flows: client
            .explicit_auth_flows()
            .iter()
            .map(ExplicitAuthFlowsType::as_str)
            .map(str::to_owned)
            .collect(),
        secret: client.client_secret().map(str::to_owned),
        write_attributes: client.write_attributes().to_vec(),
    }
}

/// `ListUserPoolClients`' largest page.
const CLIENTS_PAGE: i32 = 60;

/// One user pool, reached through its own client (the legacy pool may live elsewhere).
#[derive(Debug, Clone)]
pub struct PoolReader {
    client: aws_sdk_cognitoidentityprovider::Client,
}

impl PoolReader {
    /// `DescribeUserPool`; `Ok(None)` when the answer has no pool.
    pub async fn pool(&self, pool_id: &str) -> Result<Option<PoolFacts>, String> {
        self.client
            .describe_user_pool()
            .user_pool_id(pool_id)
            .send()
            .await
            .map(|answer| answer.user_pool().map(pool_facts))
            .map_err(|e| error_text(&e))
    }

    /// `DescribeUserPoolClient`; `Ok(None)` when the answer has no client.
    pub async fn app_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<ClientFacts>, String> {
        self.client
            .describe_user_pool_client()
            .user_pool_id(pool_id)
            .client_id(client_id)
            .send()
            .await
            .map(|answer| answer.user_pool_client().map(client_facts))
            .map_err(|e| error_text(&e))
    }

    /// Every app client of the pool (`ListUserPoolClients`, all pages), each as
    /// `DescribeUserPoolClient` tells it (the list alone lacks their attribute permissions).
    pub async fn app_clients(&self, pool_id: &str) -> Result<Vec<ClientFacts>, String> {
        let mut pages = self
            .client
            .list_user_pool_clients()
            .user_pool_id(pool_id)
            .max_results(CLIENTS_PAGE)
            .into_paginator()
            .send();
        let mut ids = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| format!("ListUserPoolClients: {}", error_text(&e)))?;
            ids.extend(
                page.user_pool_clients()
                    .iter()
                    .filter_map(UserPoolClientDescription::client_id)
                    .map(str::to_owned),
            );
        }
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            match self.app_client(pool_id, &id).await {
                Ok(Some(client)) => clients.push(client),
                Ok(None) => {
                    return Err(format!(
                        "DescribeUserPoolClient `{id}`: the answer has no client"
                    ));
                }
                Err(error) => return Err(format!("DescribeUserPoolClient `{id}`: {error}")),
            }
        }
        Ok(clients)
    }

    /// The status of the user with this username or alias, `None` when there is none (or it
    /// cannot be read).
    pub async fn user_status(&self, pool_id: &str, username: &str) -> Option<String> {
        self.client
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
            .ok()
            .map(|user| {
                user.user_status()
                    .map_or("UNKNOWN", |s| s.as_str())
                    .to_owned()
            })
    }
}

/// The clients of one `doctor` run.
#[derive(Debug, Clone)]
pub struct Doctor {
    sdk: SdkConfig,
    lambda: aws_sdk_lambda::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    new_pool: PoolReader,
}

impl Doctor {
    /// The clients, from the run's SDK configuration.
    #[must_use]
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            sdk: sdk.clone(),
            lambda: clients::lambda_client(sdk),
            dynamodb: clients::dynamodb_client(sdk),
            new_pool: PoolReader {
                client: clients::cognito_client(sdk),
            },
        }
    }

    /// The new pool (in the run's Region).
    #[must_use]
    pub fn new_pool(&self) -> &PoolReader {
        &self.new_pool
    }

    /// The legacy pool, through the one legacy-client builder.
    pub async fn legacy_pool(&self, access: &LegacyAccess, pool_id: &str) -> PoolReader {
        PoolReader {
            client: clients::legacy_client(&self.sdk, access, pool_id).await,
        }
    }

    /// `GetFunctionConfiguration`.
    pub async fn function(&self, name: &str) -> Result<FunctionFacts, String> {
        let answer = self
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| error_text(&e))?;
        Ok(FunctionFacts {
            arn: answer.function_arn().unwrap_or(name).to_owned(),
            variables: answer
                .environment()
                .and_then(|e| e.variables())
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// The function's resource policy (`GetPolicy`) as JSON text; empty when it has none.
    pub async fn function_policy(&self, name: &str) -> Result<String, String> {
        match self.lambda.get_policy().function_name(name).send().await {
            Ok(answer) => Ok(answer.policy.unwrap_or_default()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(GetPolicyError::is_resource_not_found_exception) =>
            {
                Ok(String::new())
            }
            Err(error) => Err(error_text(&error)),
        }
    }

    /// `DescribeTable`: the table's item count as it last counted, when it says.
    pub async fn table_item_count(&self, table: &str) -> Result<Option<i64>, String> {
        self.dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map(|answer| answer.table().and_then(TableDescription::item_count))
            .map_err(|e| error_text(&e))
    }

    /// One `Scan` page of at most `limit` items, projected on `indexedAtMs`.
    pub async fn ledger_sample(&self, table: &str, limit: i32) -> Result<LedgerSample, String> {
        let page = self
            .dynamodb
            .scan()
            .table_name(table)
            .limit(limit)
            .projection_expression("#at")
            .expression_attribute_names("#at", attr::INDEXED_AT_MS)
            .send()
            .await
            .map_err(|e| error_text(&e))?;
        Ok(LedgerSample {
            items: page.items().len(),
            newest_indexed_at_ms: page
                .items()
                .iter()
                .filter_map(|item| match item.get(attr::INDEXED_AT_MS) {
                    Some(AttributeValue::N(n)) => n.parse::<i64>().ok(),
                    _ => None,
                })
                .max(),
        })
    }

    /// The ledger in `table`, to read an identifier's candidates.
    #[must_use]
    pub fn ledger(&self, table: &str) -> Ledger {
        Ledger::new(self.dynamodb.clone(), table)
    }
}
