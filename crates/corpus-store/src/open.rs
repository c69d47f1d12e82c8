//! Open the object store a run URL names. Credentials and endpoints come from the
//! environment, as each store's own tools read them (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ALLOW_HTTP`, …;
//! `GOOGLE_*` and `AZURE_*` for the others). Requests are retried with exponential backoff
//! on throttling (429), server errors (5xx) and lost connections.

use std::sync::Arc;
use std::time::Duration;

use object_store::{ObjectStore, RetryConfig};

use crate::error::{Result, StoreError};
use crate::location::RemoteUrl;

/// Retries of one request (`SWE_CORPUS_STORE_RETRIES`, default 50: the time limit below is
/// what ends a long outage; a restarting server answers 500 for a while).
const RETRIES_VARIABLE: &str = "SWE_CORPUS_STORE_RETRIES";
/// The longest a request is retried (`SWE_CORPUS_STORE_RETRY_SECS`, default 180 s).
const RETRY_SECS_VARIABLE: &str = "SWE_CORPUS_STORE_RETRY_SECS";

/// The store holding `remote` and the retry policy its requests follow.
pub fn open_store(remote: &RemoteUrl) -> Result<Arc<dyn ObjectStore>> {
    let retry = retry_config()?;
    let url = remote.url();
    let failed = |e: object_store::Error| {
        StoreError::Config(format!(
            "cannot open {remote}: {}",
            crate::location::redact(&e.to_string())
        ))
    };
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(url.as_str())
                .with_retry(retry)
                .build()
                .map_err(failed)?,
        ),
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url.as_str())
                .with_retry(retry)
                .build()
                .map_err(failed)?,
        ),
        "az" | "abfs" | "abfss" => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .with_retry(retry)
                .build()
                .map_err(failed)?,
        ),
        "memory" => Arc::new(object_store::memory::InMemory::new()),
        other => {
            return Err(StoreError::Config(format!(
                "{remote}: no store for `{other}`"
            )));
        }
    };
    Ok(store)
}

fn retry_config() -> Result<RetryConfig> {
    let mut config = RetryConfig {
        max_retries: 50,
        ..RetryConfig::default()
    };
    if let Some(retries) = number_from_env(RETRIES_VARIABLE)? {
        config.max_retries = retries as usize;
    }
    if let Some(secs) = number_from_env(RETRY_SECS_VARIABLE)? {
        config.retry_timeout = Duration::from_secs(secs);
    }
    Ok(config)
}

fn number_from_env(name: &str) -> Result<Option<u64>> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Config(format!("{name}={text}: expected a whole number"))),
        Err(_) => Ok(None),
    }
}
