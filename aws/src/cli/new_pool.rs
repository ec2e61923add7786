//! Operator-only calls on the new pool for `cognito-migrate finish`: creating users in bulk
//! (`AdminCreateUser`, or a CSV user import job) and checking who exists. The trigger never
//! makes these calls, so they live apart from [`crate::new_pool`]. The import jobs' calls are
//! here too; [`crate::cli::import_job`] runs them.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::operation::admin_create_user::AdminCreateUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, MessageActionType, SmsMfaSettingsType, UserImportJobType,
};

use crate::error::AwsError;
use crate::new_pool::NewPool;

/// What `AdminCreateUser` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The user now exists, created by this call.
    Created,
    /// A user of that name already exists (`UsernameExistsException`).
    Exists,
}

/// Where an import job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJobStatus {
    /// `Created`, `Pending`, `InProgress`, `Stopping`, `Expired`, `Stopped`, `Failed`,
    /// `Succeeded`.
    pub status: String,
    /// Users imported.
    pub imported: i64,
    /// Users skipped (already in the pool).
    pub skipped: i64,
    /// Users that failed.
    pub failed: i64,
}

impl ImportJobStatus {
    /// True once the job will not change any more.
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Succeeded" | "Failed" | "Stopped" | "Expired"
        )
    }
}

impl NewPool {
    /// Creates `username` with `attributes`, sending no message (`MessageAction=SUPPRESS`). Without
    /// a temporary password Cognito leaves the user in `FORCE_CHANGE_PASSWORD`.
    pub async fn create_user(
        &self,
        pool_id: &str,
        username: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Created, AwsError> {
        let attributes = attributes
            .iter()
            .map(|(name, value)| AttributeType::builder().name(name).value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| AwsError::Transport {
                operation: "AdminCreateUser",
                kind: "the request could not be built",
            })?;
        match self
            .client()
            .admin_create_user()
            .user_pool_id(pool_id)
            .username(username)
            .set_user_attributes(Some(attributes))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
        {
            Ok(_) => Ok(Created::Created),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(AdminCreateUserError::UsernameExistsException(_))
                ) =>
            {
                Ok(Created::Exists)
            }
            Err(error) => Err(AwsError::from_sdk("AdminCreateUser", &error)),
        }
    }

    /// Turns SMS MFA on for `username`, as its preferred factor (`AdminSetUserMFAPreference`).
    /// Its codes go to the user's `phone_number`, which must be set. Setting it again changes
    /// nothing, so a resumed user gets it too.
    pub async fn enable_sms_mfa(&self, pool_id: &str, username: &str) -> Result<(), AwsError> {
        self.client()
            .admin_set_user_mfa_preference()
            .user_pool_id(pool_id)
            .username(username)
            .sms_mfa_settings(
                SmsMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("AdminSetUserMFAPreference", &e))
    }

    /// The attributes of `username` in the pool, `None` when there is no such user.
    pub async fn user_attributes(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        match self
            .client()
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
        {
            Ok(answer) => Ok(Some(
                answer
                    .user_attributes()
                    .iter()
                    .map(|a| {
                        (
                            a.name().to_owned(),
                            a.value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
            )),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(AdminGetUserError::UserNotFoundException(_))
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(AwsError::from_sdk("AdminGetUser", &error)),
        }
    }

    /// The columns a CSV import file of this pool must have (`GetCSVHeader`).
    pub async fn csv_header(&self, pool_id: &str) -> Result<Vec<String>, AwsError> {
        self.client()
            .get_csv_header()
            .user_pool_id(pool_id)
            .send()
            .await
            .map(|answer| answer.csv_header().to_vec())
            .map_err(|e| AwsError::from_sdk("GetCSVHeader", &e))
    }

    /// A new import job: its id and the pre-signed URL to upload the file to.
    pub async fn create_import_job(
        &self,
        pool_id: &str,
        job_name: &str,
        logs_role_arn: &str,
    ) -> Result<(String, String), AwsError> {
        let answer = self
            .client()
            .create_user_import_job()
            .user_pool_id(pool_id)
            .job_name(job_name)
            .cloud_watch_logs_role_arn(logs_role_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateUserImportJob", &e))?;
        let job = answer.user_import_job();
        match (
            job.and_then(UserImportJobType::job_id),
            job.and_then(UserImportJobType::pre_signed_url),
        ) {
            (Some(id), Some(url)) => Ok((id.to_owned(), url.to_owned())),
            _ => Err(AwsError::Transport {
                operation: "CreateUserImportJob",
                kind: "the answer has no job id or upload URL",
            }),
        }
    }

    /// Starts an import job once its file is uploaded.
    pub async fn start_import_job(&self, pool_id: &str, job_id: &str) -> Result<(), AwsError> {
        self.client()
            .start_user_import_job()
            .user_pool_id(pool_id)
            .job_id(job_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("StartUserImportJob", &e))
    }

    /// One `DescribeUserImportJob`.
    pub async fn describe_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> Result<ImportJobStatus, AwsError> {
        let answer = self
            .client()
            .describe_user_import_job()
            .user_pool_id(pool_id)
            .job_id(job_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeUserImportJob", &e))?;
        let job = answer.user_import_job();
        Ok(ImportJobStatus {
            status: job
                .and_then(|j| j.status())
                .map_or_else(|| "Unknown".to_owned(), |s| s.as_str().to_owned()),
            imported: job.map_or(0, UserImportJobType::imported_users),
            skipped: job.map_or(0, UserImportJobType::skipped_users),
            failed: job.map_or(0, UserImportJobType::failed_users),
        })
    }
}
